package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// trashPrefix names directories on their way out: Collect renames a
// checkout or a clone into one while it holds the locks that protect it
// (an atomic step, so a checkout directory that exists stays complete),
// then deletes it without them.
const trashPrefix = ".trash-"

// Keep names what Collect leaves in place besides the checkouts someone
// holds (see [Artifact.Release]).
type Keep struct {
	// Commits whose checkouts stay: full 40-hex SHAs.
	Commits []string
	// URLs whose cache clones stay, in any form Fetch accepts.
	URLs []string
}

// Collection says what one Collect did.
type Collection struct {
	// RemovedCheckouts and RemovedClones count the directories removed.
	RemovedCheckouts, RemovedClones int
	// CompactedClones counts the clones whose packs were merged.
	CompactedClones int
	// FreedBytes is what removals and compactions gave back, net.
	FreedBytes int64
	// Usage is the disk use afterwards.
	Usage Usage
}

// Collect removes from the cache what keep does not name and nobody uses:
//
//   - a checkout, unless its commit is in keep.Commits or an Artifact of it
//     is still held: a checkout being read is never removed;
//   - a clone, unless its URL is in keep.URLs or a fetch used it since the
//     previous Collect (so a fetch that started after the caller listed what
//     is in use keeps its clone); a clone that a fetch or ChangedPaths is
//     working on at that moment is left for the next Collect.
//
// It then compacts the clones that stay once their packfiles pile up (see
// compact.go). It goes on past errors and returns them joined.
func (f *Fetcher) Collect(ctx context.Context, keep Keep) (Collection, error) {
	var res Collection
	var errs []error

	commits := make(map[string]bool, len(keep.Commits))
	for _, c := range keep.Commits {
		commits[c] = true
	}
	trash, removed, freed, err := f.collectCheckouts(commits)
	res.RemovedCheckouts, res.FreedBytes = removed, freed
	errs = append(errs, err)
	for _, dir := range trash {
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, fmt.Errorf("git: cannot remove %s: %w", dir, err))
		}
	}

	clones := map[string]bool{}
	for _, u := range keep.URLs {
		if loc, err := parseLocation(u); err == nil && loc.kind != kindLocal {
			clones[loc.cacheDirName()] = true
		}
	}
	entries, err := os.ReadDir(filepath.Join(f.opts.CacheDir, "repos"))
	if err != nil {
		errs = append(errs, fmt.Errorf("git: cannot list cache clones: %w", err))
	}
	used := f.disk.takeUsed()
	for _, e := range entries {
		dir := e.Name()
		if !e.IsDir() || strings.HasPrefix(dir, ".") {
			continue
		}
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		if !clones[dir] && !used[dir] {
			freed, ok, err := f.removeClone(dir)
			errs = append(errs, err)
			if ok {
				res.RemovedClones++
				res.FreedBytes += freed
			}
			continue
		}
		freed, ok, err := f.compactClone(dir)
		errs = append(errs, err)
		if ok {
			res.CompactedClones++
			res.FreedBytes += freed
		}
	}
	res.Usage = f.Usage()
	return res, errors.Join(errs...)
}

// collectCheckouts moves the checkouts that are neither kept nor held to
// trash directories, which the caller deletes.
func (f *Fetcher) collectCheckouts(keep map[string]bool) (trash []string, removed int, freed int64, err error) {
	parent := filepath.Join(f.opts.CacheDir, "checkouts")
	d := f.disk
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	for sha, size := range d.checkouts {
		if keep[sha] || d.holds[sha] > 0 {
			continue
		}
		bin, err := os.MkdirTemp(parent, trashPrefix)
		if err != nil {
			errs = append(errs, fmt.Errorf("git: cannot remove checkout %s: %w", shortSHA(sha), err))
			continue
		}
		trash = append(trash, bin)
		if err := os.Rename(filepath.Join(parent, sha), filepath.Join(bin, sha)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("git: cannot remove checkout %s: %w", shortSHA(sha), err))
			continue
		}
		delete(d.checkouts, sha)
		d.total -= size
		removed++
		freed += size
	}
	return trash, removed, freed, errors.Join(errs...)
}

// takeUsed returns the clones used since the last call and starts afresh.
func (d *disk) takeUsed() map[string]bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	used := d.used
	d.used = map[string]bool{}
	return used
}

// removeClone deletes repos/<dir> unless a fetch or a reader is at it;
// ok says whether it did.
func (f *Fetcher) removeClone(dir string) (freed int64, ok bool, err error) {
	parent := filepath.Join(f.opts.CacheDir, "repos")
	bin, ok, err := f.withClone(dir, func() (string, error) {
		bin, err := os.MkdirTemp(parent, trashPrefix)
		if err != nil {
			return "", err
		}
		if err := os.Rename(filepath.Join(parent, dir), filepath.Join(bin, dir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			_ = os.Remove(bin)
			return "", err
		}
		freed = f.disk.dropClone(dir)
		return bin, nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("git: cannot remove cache clone %s: %w", dir, err)
	}
	if !ok {
		return 0, false, nil
	}
	if err := os.RemoveAll(bin); err != nil {
		return freed, true, fmt.Errorf("git: cannot remove %s: %w", bin, err)
	}
	return freed, true, nil
}

// withClone runs fn with the clone to itself: no fetch, no ChangedPaths,
// no checkout reading its objects. It does not wait for a fetch: ok is
// false when one holds the clone, and fn did not run. It does wait for
// checkouts, which the fetch that started them has already let go of.
func (f *Fetcher) withClone(dir string, fn func() (string, error)) (out string, ok bool, err error) {
	rl := f.repoLock(dir)
	select {
	case rl.sem <- struct{}{}:
	default:
		return "", false, nil
	}
	defer func() { <-rl.sem }()
	rl.readers.Lock()
	defer rl.readers.Unlock()
	out, err = fn()
	return out, err == nil, err
}
