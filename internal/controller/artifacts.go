package controller

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"

	"github.com/cruisegitops/cruise/internal/source"
)

// ArtifactStore hands the checkout a GitRepository reconcile fetched to the
// Applications that use it, in the same process. It is safe for concurrent
// use.
type ArtifactStore struct {
	mu        sync.RWMutex
	artifacts map[types.NamespacedName]*source.Artifact // guarded by mu
}

// NewArtifactStore returns an empty store.
func NewArtifactStore() *ArtifactStore {
	return &ArtifactStore{artifacts: map[types.NamespacedName]*source.Artifact{}}
}

// Put records the latest artifact of a GitRepository.
func (s *ArtifactStore) Put(key types.NamespacedName, a *source.Artifact) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.artifacts[key] = a
}

// Get returns the artifact of a GitRepository if it is at commit.
func (s *ArtifactStore) Get(key types.NamespacedName, commit string) (*source.Artifact, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.artifacts[key]
	if !ok || a.Commit != commit {
		return nil, false
	}
	return a, true
}

// Delete forgets a GitRepository.
func (s *ArtifactStore) Delete(key types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.artifacts, key)
}
