package controller

import (
	"context"
	"sync"

	gitsource "github.com/cruisegitops/cruise/internal/source"
)

// changedPaths remembers which files changed between two commits of a
// repository. When a commit lands in a monorepo every Application of it
// asks the same question; the tree diff is computed once.
type changedPaths struct {
	mu    sync.Mutex
	cache map[[3]string][]string // guarded by mu; (url, from, to) -> paths
}

// maxChangeSets bounds the cache; it is cleared when full, since only the
// latest commit pairs are asked for again.
const maxChangeSets = 256

func (c *changedPaths) get(ctx context.Context, f *gitsource.Fetcher, url, from, to string) ([]string, error) {
	key := [3]string{url, from, to}
	c.mu.Lock()
	paths, ok := c.cache[key]
	c.mu.Unlock()
	if ok {
		return paths, nil
	}
	paths, err := f.ChangedPaths(ctx, url, from, to)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache == nil || len(c.cache) >= maxChangeSets {
		c.cache = map[[3]string][]string{}
	}
	c.cache[key] = paths
	return paths, nil
}
