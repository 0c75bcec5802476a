package controller

import (
	"slices"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/image"
)

// ImageTags is what an ImageRepository's last successful scan found, kept
// in memory: a status holds only a summary, since a busy image has
// thousands of tags.
type ImageTags struct {
	// Tags kept by the scan (after exclusion), in the registry's order.
	// Readers must not modify the slice.
	Tags []string
	// Scan is how the repository was scanned: its credentials and
	// transport read the digests and image configs policies ask for.
	Scan image.Scan
	// Time of the scan.
	Time time.Time
}

// ImageTagStore hands each ImageRepository's tags to the ImagePolicies
// that choose from them, in the same process. It also caches when each
// tag's image was created (read from its config, for minimum age), so a
// config is read once however many policies ask. It is safe for
// concurrent use.
type ImageTagStore struct {
	mu    sync.RWMutex
	repos map[types.NamespacedName]*storedTags // guarded by mu

	// changed names, without blocking, each ImageRepository whose tags
	// changed (or that this process scanned for the first time, or that
	// went), so that its policies choose again at once.
	changed chan event.TypedGenericEvent[*cruisev1.ImageRepository]
	// rescanned names those scanned again without a change, for the
	// policies that read the digest at every scan.
	rescanned chan event.TypedGenericEvent[*cruisev1.ImageRepository]
}

type storedTags struct {
	tags ImageTags
	// created caches image creation times by tag; entries of tags that
	// leave the listing are dropped. Guarded by the store's mu.
	created map[string]time.Time
}

// NewImageTagStore returns an empty store.
func NewImageTagStore() *ImageTagStore {
	return &ImageTagStore{
		repos:     map[types.NamespacedName]*storedTags{},
		changed:   make(chan event.TypedGenericEvent[*cruisev1.ImageRepository], 1024),
		rescanned: make(chan event.TypedGenericEvent[*cruisev1.ImageRepository], 1024),
	}
}

// Put records a scan of an ImageRepository and reports whether its tags
// differ from the previous scan's (always true for the first, and for the
// first of another image: the same tag names are other images there).
func (s *ImageTagStore) Put(key types.NamespacedName, t ImageTags) bool {
	s.mu.Lock()
	old, ok := s.repos[key]
	ok = ok && old.tags.Scan.Image == t.Scan.Image
	changed := !ok || !slices.Equal(old.tags.Tags, t.Tags)
	created := map[string]time.Time{}
	if ok {
		if changed {
			kept := make(map[string]struct{}, len(t.Tags))
			for _, tag := range t.Tags {
				kept[tag] = struct{}{}
			}
			for tag, when := range old.created {
				if _, ok := kept[tag]; ok {
					created[tag] = when
				}
			}
		} else {
			created = old.created
		}
	}
	s.repos[key] = &storedTags{tags: t, created: created}
	s.mu.Unlock()
	if changed {
		notify(s.changed, key)
	} else {
		notify(s.rescanned, key)
	}
	return changed
}

// Get returns the tags of an ImageRepository, if this process scanned it.
func (s *ImageTagStore) Get(key types.NamespacedName) (ImageTags, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, ok := s.repos[key]
	if !ok {
		return ImageTags{}, false
	}
	return st.tags, true
}

// Delete forgets an ImageRepository.
func (s *ImageTagStore) Delete(key types.NamespacedName) {
	s.mu.Lock()
	_, ok := s.repos[key]
	delete(s.repos, key)
	s.mu.Unlock()
	if ok {
		notify(s.changed, key)
	}
}

// Created returns the cached creation time of a tag's image.
func (s *ImageTagStore) Created(key types.NamespacedName, tag string) (time.Time, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, ok := s.repos[key]
	if !ok {
		return time.Time{}, false
	}
	when, ok := st.created[tag]
	return when, ok
}

// SetCreated caches the creation time of a tag's image, if the tag is
// still listed.
func (s *ImageTagStore) SetCreated(key types.NamespacedName, tag string, when time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.repos[key]; ok && slices.Contains(st.tags.Tags, tag) {
		st.created[tag] = when
	}
}

// Changed receives the ImageRepositories whose tags changed.
func (s *ImageTagStore) Changed() <-chan event.TypedGenericEvent[*cruisev1.ImageRepository] {
	return s.changed
}

// Rescanned receives the ImageRepositories scanned again with the same
// tags.
func (s *ImageTagStore) Rescanned() <-chan event.TypedGenericEvent[*cruisev1.ImageRepository] {
	return s.rescanned
}

func notify(ch chan event.TypedGenericEvent[*cruisev1.ImageRepository], key types.NamespacedName) {
	repo := &cruisev1.ImageRepository{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	select {
	case ch <- event.TypedGenericEvent[*cruisev1.ImageRepository]{Object: repo}:
	default: // full: the policies' own requeue is the safety net
	}
}
