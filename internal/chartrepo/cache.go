package chartrepo

import (
	"container/list"
	"sync"
	"time"
)

// ttlCache holds small resolved facts (a parsed index, a tag list, a
// tag's layer digest) for a short time: long enough that many
// Applications of one repository cost one request, short enough that a
// new chart version is seen within a minute.
type ttlCache[V any] struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex // guards entries
	entries map[string]ttlEntry[V]
}

type ttlEntry[V any] struct {
	v       V
	expires time.Time
}

func newTTLCache[V any](ttl time.Duration, now func() time.Time) *ttlCache[V] {
	return &ttlCache[V]{ttl: ttl, now: now, entries: map[string]ttlEntry[V]{}}
}

func (c *ttlCache[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !c.now().Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *ttlCache[V]) put(key string, v V) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	// Sweep on write: the map never holds more than a TTL's worth of keys.
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
		}
	}
	c.entries[key] = ttlEntry[V]{v: v, expires: now.Add(c.ttl)}
}

// archiveCache is an LRU of verified archives bounded in bytes. Keys
// carry the scope (repository and credential identity) besides the
// digest: an index naming a digest must not hand out an archive fetched
// with someone else's credentials.
type archiveCache struct {
	max int64

	mu    sync.Mutex // guards the rest
	size  int64
	order *list.List // front = most recent; values *lruEntry
	byKey map[string]*list.Element
}

type lruEntry struct {
	key string
	a   *Archive
}

func newArchiveCache(maxBytes int64) *archiveCache {
	return &archiveCache{max: maxBytes, order: list.New(), byKey: map[string]*list.Element{}}
}

func (c *archiveCache) get(key string) (*Archive, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*lruEntry).a, true
}

func (c *archiveCache) put(key string, a *Archive) {
	n := int64(len(a.Data))
	if n > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		c.order.MoveToFront(el)
		return
	}
	c.byKey[key] = c.order.PushFront(&lruEntry{key: key, a: a})
	c.size += n
	for c.size > c.max {
		el := c.order.Back()
		e := el.Value.(*lruEntry)
		c.order.Remove(el)
		delete(c.byKey, e.key)
		c.size -= int64(len(e.a.Data))
	}
}

// stats reports entries and bytes held.
func (c *archiveCache) stats() (int, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len(), c.size
}
