package controller

import (
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
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
	// published names, without blocking, each GitRepository whose artifact
	// this process has for the first time, so that its Applications sync at
	// once. After a restart the GitRepository's status does not change (its
	// commit is the same), so no watch event says so.
	published chan event.TypedGenericEvent[*cruisev1.GitRepository]
}

// NewArtifactStore returns an empty store.
func NewArtifactStore() *ArtifactStore {
	return &ArtifactStore{
		artifacts: map[types.NamespacedName]*source.Artifact{},
		changed:   make(chan struct{}, 1),
		published: make(chan event.TypedGenericEvent[*cruisev1.GitRepository], 1024),
	}
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
	if old == nil {
		// A new commit needs no word from here: the GitRepository's status
		// patch, right after, wakes its Applications, and they would find
		// the status still naming the old commit if woken before it.
		repo := &cruisev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
		select {
		case s.published <- event.TypedGenericEvent[*cruisev1.GitRepository]{Object: repo}:
		default: // full: the Applications' own requeue is the safety net
		}
	}
}

// Published receives the GitRepositories whose artifact this process got
// for the first time.
func (s *ArtifactStore) Published() <-chan event.TypedGenericEvent[*cruisev1.GitRepository] {
	return s.published
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
