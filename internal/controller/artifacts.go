package controller

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"

	"github.com/cruisegitops/cruise/internal/source"
)

// ArtifactStore hands the checkout a GitRepository reconcile fetched to the
// Applications that use it, in the same process. It is safe for concurrent
// use.
//
// The store holds the checkout of each current artifact (see
// source.Artifact.Release), so the storage collector leaves it alone, and
// Get holds it once more for each reader.
type ArtifactStore struct {
	mu        sync.RWMutex
	artifacts map[types.NamespacedName]*source.Artifact // guarded by mu

	// changed is poked, without blocking, when an artifact gives way to
	// another commit or goes: the moment a checkout may stop being used.
	changed chan struct{}
}

// NewArtifactStore returns an empty store.
func NewArtifactStore() *ArtifactStore {
	return &ArtifactStore{artifacts: map[types.NamespacedName]*source.Artifact{}, changed: make(chan struct{}, 1)}
}

// Put records the latest artifact of a GitRepository. The store takes over
// the hold a fetch returned a with, and releases the artifact it replaces.
func (s *ArtifactStore) Put(key types.NamespacedName, a *source.Artifact) {
	s.mu.Lock()
	old := s.artifacts[key]
	s.artifacts[key] = a
	s.mu.Unlock()
	if old != a {
		// After the swap: a Get that found old holds it on its own already.
		old.Release()
	}
	if old == nil || old.Commit != a.Commit {
		s.poke()
	}
}

// Get returns the artifact of a GitRepository if it is at commit, holding
// its checkout for the caller, who releases it when done reading.
func (s *ArtifactStore) Get(key types.NamespacedName, commit string) (*source.Artifact, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.artifacts[key]
	if !ok || a.Commit != commit {
		return nil, false
	}
	return a.Hold(), true
}

// Has reports whether the store has an artifact of a GitRepository.
func (s *ArtifactStore) Has(key types.NamespacedName) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.artifacts[key]
	return ok
}

// Delete forgets a GitRepository.
func (s *ArtifactStore) Delete(key types.NamespacedName) {
	s.mu.Lock()
	old, ok := s.artifacts[key]
	delete(s.artifacts, key)
	s.mu.Unlock()
	if ok {
		old.Release()
		s.poke()
	}
}

// Changed receives a value (at most one is queued) after an artifact was
// replaced by another commit or deleted.
func (s *ArtifactStore) Changed() <-chan struct{} { return s.changed }

func (s *ArtifactStore) poke() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}
