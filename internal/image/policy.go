package image

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Ways of ordering tags.
const (
	SemVer       = "semver"
	Numerical    = "numerical"
	Alphabetical = "alphabetical"
)

// Selector ranks tags by one policy: which are eligible, and in which order
// of preference.
type Selector struct {
	kind       string
	desc       bool
	constraint *semver.Constraints
	pattern    *regexp.Regexp
	extract    string
}

// SelectorSpec is what an ImagePolicy asks for.
type SelectorSpec struct {
	// Kind is SemVer, Numerical or Alphabetical.
	Kind string
	// Range is the semver range (SemVer only).
	Range string
	// Order is "asc" or "desc" (default desc) for Numerical and
	// Alphabetical.
	Order string
	// Pattern, when set, is a regular expression a tag must match.
	Pattern string
	// Extract is a template over Pattern's groups ("$ts"); default the
	// whole tag.
	Extract string
}

// NewSelector checks the spec: an error names the range or pattern that
// does not parse.
func NewSelector(spec SelectorSpec) (*Selector, error) {
	s := &Selector{kind: spec.Kind, extract: spec.Extract}
	switch spec.Kind {
	case SemVer:
		c, err := semver.NewConstraint(spec.Range)
		if err != nil {
			return nil, fmt.Errorf("semver range %q: %w", spec.Range, err)
		}
		s.constraint = c
		s.desc = true
	case Numerical, Alphabetical:
		switch spec.Order {
		case "", "desc":
			s.desc = true
		case "asc":
		default:
			return nil, fmt.Errorf("order %q: use asc or desc", spec.Order)
		}
	default:
		return nil, fmt.Errorf("policy %q: use semver, numerical or alphabetical", spec.Kind)
	}
	if spec.Pattern != "" {
		re, err := regexp.Compile(spec.Pattern)
		if err != nil {
			return nil, fmt.Errorf("filter pattern %q: %w", spec.Pattern, err)
		}
		s.pattern = re
	} else if spec.Extract != "" {
		return nil, fmt.Errorf("extract %q needs a filter pattern", spec.Extract)
	}
	return s, nil
}

type candidate struct {
	tag string
	key string
	ver *semver.Version
	num float64
}

// Rank returns the eligible tags, the preferred first. Ties (two tags that
// extract to the same value) keep the tag order stable by the tag itself,
// so the choice never depends on the registry's listing order.
func (s *Selector) Rank(tags []string) []string {
	cands := make([]candidate, 0, len(tags))
	for _, tag := range tags {
		key := tag
		if s.pattern != nil {
			m := s.pattern.FindStringSubmatchIndex(tag)
			if m == nil {
				continue
			}
			if s.extract != "" {
				key = string(s.pattern.ExpandString(nil, s.extract, tag, m))
			}
		}
		c := candidate{tag: tag, key: key}
		switch s.kind {
		case SemVer:
			v, err := semver.NewVersion(key)
			if err != nil || !s.constraint.Check(v) {
				continue
			}
			c.ver = v
		case Numerical:
			n, err := strconv.ParseFloat(strings.TrimSpace(key), 64)
			if err != nil {
				continue
			}
			c.num = n
		}
		cands = append(cands, c)
	}
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		var cmp int
		switch s.kind {
		case SemVer:
			cmp = a.ver.Compare(b.ver)
		case Numerical:
			switch {
			case a.num < b.num:
				cmp = -1
			case a.num > b.num:
				cmp = 1
			}
		default:
			cmp = strings.Compare(a.key, b.key)
		}
		if cmp == 0 {
			cmp = strings.Compare(a.tag, b.tag)
		}
		if s.desc {
			return cmp > 0
		}
		return cmp < 0
	})
	out := make([]string, len(cands))
	for i, c := range cands {
		out[i] = c.tag
	}
	return out
}

// Select returns the preferred tag; ok is false when none is eligible.
func (s *Selector) Select(tags []string) (tag string, ok bool) {
	r := s.Rank(tags)
	if len(r) == 0 {
		return "", false
	}
	return r[0], true
}
