package controller

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
)

func TestPickOldEnough(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	// The images' creation times, by tag.
	created := map[string]time.Time{
		"3.0.0": ago(time.Minute), "2.1.0": ago(30 * time.Minute), "2.0.0": ago(2 * time.Hour),
		"1.0.0": ago(48 * time.Hour), "0.9.0": {}, // no creation time: old
	}
	for _, tc := range []struct {
		name     string
		ranked   []string
		cached   []string // tags whose time is known without a read
		maxReads int
		want     agePick
		reads    []string
	}{
		{"the best is old enough", []string{"2.0.0", "1.0.0"}, nil, 10,
			agePick{Tag: "2.0.0"}, []string{"2.0.0"}},
		{"too young ones are passed over; the earliest to age is the recheck",
			[]string{"3.0.0", "2.1.0", "2.0.0", "1.0.0"}, nil, 10,
			agePick{Tag: "2.0.0", Younger: "3.0.0", Eligible: ago(30 * time.Minute).Add(time.Hour)},
			[]string{"3.0.0", "2.1.0", "2.0.0"}},
		{"none old enough yet", []string{"3.0.0", "2.1.0"}, nil, 10,
			agePick{Younger: "3.0.0", Eligible: ago(30 * time.Minute).Add(time.Hour)}, []string{"3.0.0", "2.1.0"}},
		{"no creation time counts as old", []string{"3.0.0", "0.9.0"}, nil, 10,
			agePick{Tag: "0.9.0", Younger: "3.0.0", Eligible: ago(time.Minute).Add(time.Hour)}, []string{"3.0.0", "0.9.0"}},
		{"reads run out: undecided", []string{"3.0.0", "2.1.0", "2.0.0"}, nil, 2,
			agePick{Undecided: true, Younger: "3.0.0", Eligible: ago(30 * time.Minute).Add(time.Hour)}, []string{"3.0.0", "2.1.0"}},
		{"cached times cost no read", []string{"3.0.0", "2.1.0", "2.0.0"}, []string{"3.0.0", "2.1.0"}, 1,
			agePick{Tag: "2.0.0", Younger: "3.0.0", Eligible: ago(30 * time.Minute).Add(time.Hour)}, []string{"2.0.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var reads []string
			got, err := pickOldEnough(tc.ranked, time.Hour, now, tc.maxReads,
				func(tag string) (time.Time, bool) { return created[tag], slices.Contains(tc.cached, tag) },
				func(tag string) (time.Time, error) { reads = append(reads, tag); return created[tag], nil })
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if !slices.Equal(reads, tc.reads) {
				t.Errorf("read %v, want %v", reads, tc.reads)
			}
		})
	}

	boom := errors.New("registry down")
	_, err := pickOldEnough([]string{"2.0.0"}, time.Hour, now, 10,
		func(string) (time.Time, bool) { return time.Time{}, false },
		func(string) (time.Time, error) { return time.Time{}, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("a failed read: %v", err)
	}
}

func TestSelectorOf(t *testing.T) {
	for _, tc := range []struct {
		name    string
		spec    cruisev1.ImagePolicySpec
		tags    []string
		want    string
		wantErr string
	}{
		{"semver", cruisev1.ImagePolicySpec{Policy: cruisev1.ImagePolicyChoice{SemVer: &cruisev1.SemVerPolicy{Range: "^1.0"}}},
			[]string{"1.0.0", "1.4.2", "2.0.0", "1.5.0-rc.1"}, "1.4.2", ""},
		{"numerical asc with a filter", cruisev1.ImagePolicySpec{
			Policy:     cruisev1.ImagePolicyChoice{Numerical: &cruisev1.OrderPolicy{Order: cruisev1.OrderAsc}},
			FilterTags: &cruisev1.TagFilter{Pattern: `^b-(?P<n>\d+)$`, Extract: "$n"}},
			[]string{"b-7", "b-12", "latest"}, "b-7", ""},
		{"alphabetical defaults to desc", cruisev1.ImagePolicySpec{Policy: cruisev1.ImagePolicyChoice{Alphabetical: &cruisev1.OrderPolicy{}}},
			[]string{"alpha", "gamma", "beta"}, "gamma", ""},
		{"bad range", cruisev1.ImagePolicySpec{Policy: cruisev1.ImagePolicyChoice{SemVer: &cruisev1.SemVerPolicy{Range: "one"}}},
			nil, "", `semver range "one"`},
		{"bad pattern", cruisev1.ImagePolicySpec{Policy: cruisev1.ImagePolicyChoice{Alphabetical: &cruisev1.OrderPolicy{}},
			FilterTags: &cruisev1.TagFilter{Pattern: "("}}, nil, "", `filter pattern "("`},
		{"no policy", cruisev1.ImagePolicySpec{}, nil, "", "spec.policy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sel, err := selectorOf(tc.spec)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := sel.Select(tc.tags); got != tc.want {
				t.Errorf("chose %q, want %q", got, tc.want)
			}
		})
	}
}
