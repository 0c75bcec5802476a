package controller

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/cruisegitops/cruise/internal/image"
)

func TestImageTagStore(t *testing.T) {
	s := NewImageTagStore()
	key := types.NamespacedName{Namespace: "team", Name: "app"}
	woken := func() string {
		select {
		case e := <-s.Changed():
			return "changed " + e.Object.Name
		case e := <-s.Rescanned():
			return "rescanned " + e.Object.Name
		default:
			return "nothing"
		}
	}
	if _, ok := s.Get(key); ok {
		t.Fatal("an empty store has tags")
	}
	if !s.Put(key, ImageTags{Tags: []string{"1", "2"}}) || woken() != "changed app" {
		t.Fatal("the first scan is not a change")
	}
	when := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.SetCreated(key, "1", when)
	s.SetCreated(key, "9", when) // not listed: not cached
	if _, ok := s.Created(key, "9"); ok {
		t.Fatal("cached the age of a tag that is not listed")
	}
	if s.Put(key, ImageTags{Tags: []string{"1", "2"}}) || woken() != "rescanned app" {
		t.Fatal("the same tags again count as a change")
	}
	if got, ok := s.Created(key, "1"); !ok || !got.Equal(when) {
		t.Fatal("a rescan with the same tags dropped the cached ages")
	}
	if !s.Put(key, ImageTags{Tags: []string{"2", "3"}}) || woken() != "changed app" {
		t.Fatal("new tags are not a change")
	}
	if _, ok := s.Created(key, "1"); ok {
		t.Fatal("kept the age of a tag no longer listed")
	}
	if got, _ := s.Get(key); len(got.Tags) != 2 || got.Tags[1] != "3" {
		t.Fatalf("Get = %v", got.Tags)
	}
	s.SetCreated(key, "2", when)
	if !s.Put(key, ImageTags{Tags: []string{"2", "3"}, Scan: image.Scan{Image: "elsewhere/app"}}) || woken() != "changed app" {
		t.Fatal("another image with the same tag names is not a change")
	}
	if _, ok := s.Created(key, "2"); ok {
		t.Fatal("kept the age of another image's tag")
	}
	s.Delete(key)
	if _, ok := s.Get(key); ok || woken() != "changed app" {
		t.Fatal("a deleted repository is still there, or its policies were not woken")
	}
	s.Delete(key)
	if woken() != "nothing" {
		t.Fatal("deleting an unknown repository woke policies")
	}
}

func TestScanSchedule(t *testing.T) {
	var s scanSchedule
	key := types.NamespacedName{Namespace: "team", Name: "app"}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if s.wait(key, 1, "", now) != 0 {
		t.Fatal("a repository never scanned is not due")
	}
	s.set(key, scanDue{at: now.Add(time.Minute), generation: 1, handled: "a"})
	for _, tc := range []struct {
		name       string
		generation int64
		requested  string
		at         time.Time
		want       time.Duration
	}{
		{"not due", 1, "a", now.Add(10 * time.Second), 50 * time.Second},
		{"no request is not a new request", 1, "", now, time.Minute},
		{"due", 1, "a", now.Add(time.Minute), 0},
		{"a new generation is due", 2, "a", now, 0},
		{"a new request is due", 1, "b", now, 0},
	} {
		if got := s.wait(key, tc.generation, tc.requested, tc.at); got != tc.want {
			t.Errorf("%s: wait = %s, want %s", tc.name, got, tc.want)
		}
	}
	s.forget(key)
	if s.wait(key, 1, "a", now) != 0 {
		t.Fatal("a forgotten repository is not due")
	}
}
