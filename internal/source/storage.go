package source

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// ErrStorageFull: the cache is at Options.StorageLimit, so a fetch or a
// checkout that would take it further was refused. Collecting what no one
// uses any more, or a higher limit, lets it through.
var ErrStorageFull = errors.New("storage limit reached")

// Usage is the disk use of a Fetcher's cache, counted in allocated blocks
// (what du and the kubelet count), not file lengths.
type Usage struct {
	// Bytes is the total of the clones and the checkouts.
	Bytes int64
	// Checkouts and Clones count the directories.
	Checkouts, Clones int
	// Limit is Options.StorageLimit; 0 means none.
	Limit int64
}

// Over reports whether the cache is at or over its limit: full, so that
// a fetch, whose size is not known in advance, is refused.
func (u Usage) Over() bool { return u.Limit > 0 && u.Bytes >= u.Limit }

// disk tracks what the cache holds on disk and who reads which checkout.
// Sizes are recorded when a clone is fetched into or a checkout is written,
// and forgotten when Collect removes them, so reading the usage costs no I/O.
type disk struct {
	limit int64 // Options.StorageLimit; 0: none
	// full is poked, without blocking, when the limit refuses something,
	// so that a collector can run at once (see Fetcher.LimitReached).
	full chan struct{}

	mu        sync.Mutex
	checkouts map[string]int64 // guarded by mu; bytes by commit SHA
	clones    map[string]int64 // guarded by mu; bytes by clone directory name
	total     int64            // guarded by mu; sum of the two maps
	holds     map[string]int   // guarded by mu; unreleased leases by commit SHA
	used      map[string]bool  // guarded by mu; clones fetched or read since the last Collect
}

func newDisk(limit int64) *disk {
	return &disk{
		limit:     limit,
		full:      make(chan struct{}, 1),
		checkouts: map[string]int64{},
		clones:    map[string]int64{},
		holds:     map[string]int{},
		used:      map[string]bool{},
	}
}

func (d *disk) usage() Usage {
	d.mu.Lock()
	defer d.mu.Unlock()
	return Usage{Bytes: d.total, Checkouts: len(d.checkouts), Clones: len(d.clones), Limit: d.limit}
}

// refuse builds the ErrStorageFull error and tells the collector.
func (d *disk) refuse(format string, args ...any) error {
	select {
	case d.full <- struct{}{}:
	default:
	}
	return newError(ErrStorageFull, nil, nil, format, args...)
}

// roomToFetch refuses a network fetch when the cache is already at its
// limit: the size of what a fetch brings is not known in advance.
func (d *disk) roomToFetch(display string) error {
	if u := d.usage(); u.Over() {
		return d.refuse("fetching %s refused: the cache uses %s, at its storage limit of %s (--storage-limit)",
			display, formatBytes(u.Bytes), formatBytes(u.Limit))
	}
	return nil
}

// resizeClone records the size of a clone after a fetch or a compaction
// wrote to it.
func (d *disk) resizeClone(dir string, size int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.total += size - d.clones[dir]
	d.clones[dir] = size
}

func (d *disk) cloneSize(dir string) int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.clones[dir]
}

// dropClone forgets a removed clone and returns its size.
func (d *disk) dropClone(dir string) int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	size := d.clones[dir]
	d.total -= size
	delete(d.clones, dir)
	return size
}

// measureClone records the size of repos/<dir>; the caller holds its sem.
// A clone that is not there (its creation failed) is simply not counted.
func (f *Fetcher) measureClone(dir string) {
	size, err := diskUsage(filepath.Join(f.opts.CacheDir, "repos", dir))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			f.disk.dropClone(dir)
		}
		return
	}
	f.disk.resizeClone(dir, size)
}

// markUsed keeps a clone through the next Collect, whatever its Keep says:
// a fetch that started before the collector listed what is in use must not
// lose its clone to it.
func (d *disk) markUsed(dir string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.used[dir] = true
}

// holdExisting takes a lease on the checkout of sha if it exists.
func (d *disk) holdExisting(sha string) (*lease, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.checkouts[sha]; !ok {
		return nil, false
	}
	return d.holdLocked(sha), true
}

// publish makes a finished checkout (tmp, size bytes on disk) the checkout
// of sha and holds it, unless that would take the cache over its limit.
// rename moves tmp into place; it runs under the lock, so Collect never
// sees a checkout that is published but not yet held. When another fetch
// published sha first, its checkout is held and tmp is left to the caller
// to remove (ok is false).
func (d *disk) publish(sha string, size int64, rename func() error, what string) (l *lease, ok bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, exists := d.checkouts[sha]; exists {
		return d.holdLocked(sha), false, nil
	}
	if d.limit > 0 && d.total+size > d.limit {
		return nil, false, d.refuse("%s refused: it takes %s and the cache already uses %s of its storage limit of %s (--storage-limit)",
			what, formatBytes(size), formatBytes(d.total), formatBytes(d.limit))
	}
	if err := rename(); err != nil {
		return nil, false, err
	}
	d.checkouts[sha] = size
	d.total += size
	return d.holdLocked(sha), true, nil
}

func (d *disk) holdLocked(sha string) *lease {
	d.holds[sha]++
	return &lease{d: d, sha: sha}
}

func (d *disk) release(sha string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.holds[sha] <= 1 {
		delete(d.holds, sha)
		return
	}
	d.holds[sha]--
}

// lease is one holder's claim on a checkout: Collect leaves a checkout
// alone while any lease on it is unreleased.
type lease struct {
	d    *disk
	sha  string
	once sync.Once
}

func (l *lease) release() { l.once.Do(func() { l.d.release(l.sha) }) }

// Release tells the Fetcher that this holder is done reading a.Dir. Once
// nobody holds a checkout and the Keep given to [Fetcher.Collect] does not
// name its commit, Collect removes it. Releasing twice, or an Artifact that
// holds nothing, does nothing.
func (a *Artifact) Release() {
	if a != nil && a.held != nil {
		a.held.release()
	}
}

// Hold returns a copy of a that holds the checkout on its own behalf, for
// a second reader; the copy must be released too. a must still be held
// (not yet released), which is what guarantees that the directory exists.
func (a *Artifact) Hold() *Artifact {
	c := *a
	if a.held != nil {
		a.held.d.mu.Lock()
		c.held = a.held.d.holdLocked(a.Commit)
		a.held.d.mu.Unlock()
	}
	return &c
}

// Usage returns the disk use of the cache as last recorded; it does no I/O.
func (f *Fetcher) Usage() Usage { return f.disk.usage() }

// LimitReached receives a value (at most one is queued) each time
// Options.StorageLimit refused a fetch or a checkout, so that whoever runs
// Collect can run it at once instead of on its next tick.
func (f *Fetcher) LimitReached() <-chan struct{} { return f.disk.full }

// scan records the sizes of what a previous process left in the cache.
func (d *disk) scan(cacheDir string) error {
	for sub, m := range map[string]map[string]int64{"checkouts": d.checkouts, "repos": d.clones} {
		entries, err := os.ReadDir(filepath.Join(cacheDir, sub))
		if err != nil {
			return fmt.Errorf("git: cannot read cache directory: %w", err)
		}
		for _, e := range entries {
			if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			size, err := diskUsage(filepath.Join(cacheDir, sub, e.Name()))
			if err != nil {
				return fmt.Errorf("git: cannot measure cache: %w", err)
			}
			m[e.Name()] = size
			d.total += size
		}
	}
	return nil
}

// diskUsage sums the blocks allocated to everything under root.
func diskUsage(root string) (int64, error) {
	var total int64
	err := filepath.WalkDir(root, func(_ string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		total += allocated(fi)
		return nil
	})
	return total, err
}

// formatBytes prints a size the way the limit is usually written (Mi, Gi).
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func roundUpToBlock(n int64) int64 { return (n + 4095) &^ 4095 }
