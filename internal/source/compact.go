package source

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// Every fetch that brings new commits adds one packfile to a clone, and
// go-git looks an object up pack by pack: in one run by hand, after 900
// commits fetched one at a time, a fetch took 1.2 s instead of 45 ms (no
// benchmark reproduces that; BenchmarkStorage1000Commits runs with
// compaction on). Collect therefore merges a
// clone's packs once there are more than defaultMaxPacks of them.
//
// The merge is geometric, in the manner of git's `repack --geometric=2`:
// from the largest pack down, a pack stays as it is while it holds at
// least twice as much as all the smaller ones together, and the smaller
// ones from the first that does not are merged. So the cost of a merge
// follows what was fetched lately, not the size of the history, which is
// rewritten as a whole only each time the clone has grown by half.
const defaultMaxPacks = 16

// packWindow is how many objects the encoder compares when looking for
// deltas: git's default.
const packWindow = 10

// pack is one packfile of a clone.
type pack struct {
	hash plumbing.Hash
	size int64 // of the .pack file
}

// compactClone merges the packs of repos/<dir> when there are too many,
// and removes the temporary packs of fetches that died mid-way. merged
// says whether it merged; freed is the net change in the clone's size.
func (f *Fetcher) compactClone(dir string) (freed int64, merged bool, err error) {
	packDir := filepath.Join(f.opts.CacheDir, "repos", dir, "objects", "pack")
	packs, leftovers, err := listPacks(packDir)
	if err != nil || (len(packs) <= f.maxPacks && len(leftovers) == 0) {
		return 0, false, err
	}
	_, _, err = f.withClone(dir, func() (string, error) {
		before := f.disk.cloneSize(dir)
		defer func() {
			f.measureClone(dir)
			freed = before - f.disk.cloneSize(dir)
		}()
		// Listed again: a fetch may have finished in between.
		packs, leftovers, err := listPacks(packDir)
		if err != nil {
			return "", err
		}
		for _, p := range leftovers {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return "", err
			}
		}
		if len(packs) <= f.maxPacks {
			return "", nil
		}
		merged = true
		return "", mergePacks(filepath.Join(f.opts.CacheDir, "repos", dir), packDir, packs)
	})
	if err != nil {
		return 0, false, fmt.Errorf("git: cannot compact cache clone %s: %w", dir, err)
	}
	return freed, merged, nil
}

// listPacks lists the packs of a clone, and the temporary files that
// go-git leaves when a pack is not finished (tmp_pack_*). A clone without
// a pack directory has neither.
func listPacks(packDir string) (packs []pack, leftovers []string, err error) {
	entries, err := os.ReadDir(packDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, "tmp_pack_") {
			leftovers = append(leftovers, filepath.Join(packDir, name))
			continue
		}
		hex, isPack := strings.CutPrefix(name, "pack-")
		hex, hasExt := strings.CutSuffix(hex, ".pack")
		if !isPack || !hasExt || !isFullSHA(hex) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return nil, nil, err
		}
		packs = append(packs, pack{hash: plumbing.NewHash(hex), size: fi.Size()})
	}
	return packs, leftovers, nil
}

// mergePacks writes the objects of the packs to merge (see the doc above)
// into one new pack, then deletes them.
func mergePacks(repoDir, packDir string, packs []pack) error {
	merge := geometricTail(packs)

	seen := map[plumbing.Hash]bool{}
	var objects []plumbing.Hash
	for _, p := range merge {
		hashes, err := packObjects(filepath.Join(packDir, "pack-"+p.hash.String()+".idx"))
		if err != nil {
			return err
		}
		for _, h := range hashes {
			if !seen[h] {
				seen[h] = true
				objects = append(objects, h)
			}
		}
	}

	repo, err := git.PlainOpen(repoDir)
	if err != nil {
		return err
	}
	writer, ok1 := repo.Storer.(storer.PackfileWriter)
	packed, ok2 := repo.Storer.(storer.PackedObjectStorer)
	if !ok1 || !ok2 {
		return errors.New("the clone's storage cannot write packs")
	}
	w, err := writer.PackfileWriter()
	if err != nil {
		return err
	}
	merged, err := packfile.NewEncoder(w, repo.Storer, false).Encode(objects, packWindow)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// The unfinished pack is a tmp_pack_* file: the next compaction
		// removes it.
		return fmt.Errorf("write merged pack: %w", err)
	}
	for _, p := range merge {
		if p.hash == merged {
			continue
		}
		if err := packed.DeleteOldObjectPackAndIndex(p.hash, time.Time{}); err != nil {
			return fmt.Errorf("delete merged pack %s: %w", p.hash, err)
		}
	}
	return nil
}

// geometricTail returns the packs to merge, see defaultMaxPacks: at
// least two, even when the sizes already progress geometrically.
func geometricTail(packs []pack) []pack {
	sort.Slice(packs, func(i, j int) bool { return packs[i].size > packs[j].size })
	smaller := make([]int64, len(packs)+1) // smaller[i]: total of packs[i:]
	for i := len(packs) - 1; i >= 0; i-- {
		smaller[i] = smaller[i+1] + packs[i].size
	}
	for i := range packs {
		if packs[i].size < 2*smaller[i+1] {
			return packs[i:] // never the last alone: it has nothing smaller
		}
	}
	return packs[len(packs)-2:]
}

// packObjects lists the objects of a pack from its index.
func packObjects(idxPath string) ([]plumbing.Hash, error) {
	file, err := os.Open(idxPath)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	idx := idxfile.NewMemoryIndex()
	if err := idxfile.NewDecoder(file).Decode(idx); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Base(idxPath), err)
	}
	entries, err := idx.Entries()
	if err != nil {
		return nil, err
	}
	defer entries.Close()
	var hashes []plumbing.Hash
	for {
		e, err := entries.Next()
		if errors.Is(err, io.EOF) {
			return hashes, nil
		}
		if err != nil {
			return nil, err
		}
		hashes = append(hashes, e.Hash)
	}
}
