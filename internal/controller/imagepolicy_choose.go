package controller

import (
	"fmt"
	"time"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/image"
)

// maxConfigReads bounds the image configs one ImagePolicy reconcile reads
// to learn tags' ages; a policy that needs more comes back at once for the
// next ones, letting other policies run in between.
const maxConfigReads = 10

// configReadPause is how soon a policy that used up its reads comes back.
const configReadPause = 100 * time.Millisecond

// selectorOf turns an ImagePolicy's spec into a selector.
func selectorOf(spec cruisev1.ImagePolicySpec) (*image.Selector, error) {
	var s image.SelectorSpec
	p := spec.Policy
	switch {
	case p.SemVer != nil:
		s = image.SelectorSpec{Kind: image.SemVer, Range: p.SemVer.Range}
	case p.Numerical != nil:
		s = image.SelectorSpec{Kind: image.Numerical, Order: p.Numerical.Order}
	case p.Alphabetical != nil:
		s = image.SelectorSpec{Kind: image.Alphabetical, Order: p.Alphabetical.Order}
	default:
		return nil, fmt.Errorf("spec.policy: set one of semver, numerical and alphabetical")
	}
	if f := spec.FilterTags; f != nil {
		s.Pattern, s.Extract = f.Pattern, f.Extract
	}
	sel, err := image.NewSelector(s)
	if err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	return sel, nil
}

// describePolicy says in words what a policy asks for, for messages.
func describePolicy(spec cruisev1.ImagePolicySpec) string {
	var s string
	p := spec.Policy
	switch {
	case p.SemVer != nil:
		s = fmt.Sprintf("semver range %q", p.SemVer.Range)
	case p.Numerical != nil:
		s = "numerical order"
	case p.Alphabetical != nil:
		s = "alphabetical order"
	}
	if f := spec.FilterTags; f != nil {
		s += fmt.Sprintf(" with filter %q", f.Pattern)
		if f.Extract != "" {
			s += fmt.Sprintf(" (extract %q)", f.Extract)
		}
	}
	return s
}

// agePick is the outcome of pickOldEnough.
type agePick struct {
	// Tag is the first ranked tag old enough; "" when there is none (yet).
	Tag string
	// Undecided is true when the reads ran out before a tag was found.
	Undecided bool
	// Younger is the best tag passed over for being too young, "" if none.
	Younger string
	// Eligible is the earliest time a tag ranked before Tag becomes old
	// enough, when the choice should be made again; zero when none will.
	Eligible time.Time
}

// pickOldEnough walks ranked tags, the preferred first, and picks the
// first whose image was created at least minAge before now. cached
// returns a creation time already known; read reads it from the image's
// config, which the walk does at most maxReads times before it stops
// undecided, to go on from the cache later. An image with no creation
// time (the zero time) counts as old.
func pickOldEnough(ranked []string, minAge time.Duration, now time.Time, maxReads int,
	cached func(tag string) (time.Time, bool), read func(tag string) (time.Time, error)) (agePick, error) {
	var p agePick
	reads := 0
	for _, tag := range ranked {
		when, ok := cached(tag)
		if !ok {
			if reads == maxReads {
				p.Undecided = true
				return p, nil
			}
			reads++
			var err error
			if when, err = read(tag); err != nil {
				return p, err
			}
		}
		eligible := when.Add(minAge)
		if when.IsZero() || !now.Before(eligible) {
			p.Tag = tag
			return p, nil
		}
		if p.Younger == "" {
			p.Younger = tag
		}
		if p.Eligible.IsZero() || eligible.Before(p.Eligible) {
			p.Eligible = eligible
		}
	}
	return p, nil
}
