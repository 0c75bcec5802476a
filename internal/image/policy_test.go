package image

import (
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	tests := []struct {
		name string
		spec SelectorSpec
		tags string
		want string // "" = none
	}{
		{"semver highest in range", SelectorSpec{Kind: SemVer, Range: ">=1.0.0 <2.0.0"}, "1.0.0 1.2.3 1.10.0 2.0.0 latest", "1.10.0"},
		{"semver v prefix", SelectorSpec{Kind: SemVer, Range: "^1"}, "v1.1.0 v1.9.0 v2.0.0", "v1.9.0"},
		{"semver skips prereleases", SelectorSpec{Kind: SemVer, Range: ">=1.0.0"}, "1.0.0 1.1.0-rc.1", "1.0.0"},
		{"semver prerelease when named", SelectorSpec{Kind: SemVer, Range: ">=1.1.0-0"}, "1.0.0 1.1.0-rc.1", "1.1.0-rc.1"},
		{"semver none", SelectorSpec{Kind: SemVer, Range: ">=3"}, "1.0.0 2.0.0", ""},
		{"numerical desc", SelectorSpec{Kind: Numerical}, "9 10 100 x", "100"},
		{"numerical asc", SelectorSpec{Kind: Numerical, Order: "asc"}, "9 10 100", "9"},
		{"alphabetical desc", SelectorSpec{Kind: Alphabetical}, "a b c", "c"},
		{"alphabetical asc", SelectorSpec{Kind: Alphabetical, Order: "asc"}, "b a c", "a"},
		{"extract timestamp", SelectorSpec{Kind: Numerical, Pattern: `^main-(?P<ts>[0-9]+)-[a-f0-9]+$`, Extract: "$ts"},
			"main-100-abc main-99-def main-1000-0a1 dev-5000-aaa", "main-1000-0a1"},
		{"pattern filters", SelectorSpec{Kind: Alphabetical, Pattern: `^rc-`}, "rc-1 rc-2 zz", "rc-2"},
		{"ties broken by tag", SelectorSpec{Kind: Numerical, Pattern: `^(\d+)-`, Extract: "$1"}, "5-b 5-a", "5-b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSelector(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := s.Select(strings.Fields(tt.tags))
			if (tt.want == "") == ok || got != tt.want {
				t.Fatalf("Select = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

func TestSelectOrderIndependent(t *testing.T) {
	s, _ := NewSelector(SelectorSpec{Kind: Numerical, Pattern: `^(\d+)-`, Extract: "$1"})
	a, _ := s.Select([]string{"5-a", "5-b"})
	b, _ := s.Select([]string{"5-b", "5-a"})
	if a != b {
		t.Fatalf("choice depends on listing order: %s vs %s", a, b)
	}
}

func TestNewSelectorRefuses(t *testing.T) {
	for name, spec := range map[string]SelectorSpec{
		"bad range":        {Kind: SemVer, Range: ">>1"},
		"bad regex":        {Kind: Alphabetical, Pattern: "("},
		"bad order":        {Kind: Numerical, Order: "up"},
		"unknown kind":     {Kind: "random"},
		"extract no regex": {Kind: Numerical, Extract: "$1"},
	} {
		if _, err := NewSelector(spec); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
