package controller_test

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/image/registrytest"
)

// TestImagePolicyChooses: each kind of policy over one repository's tags,
// and the ways a policy fails.
func TestImagePolicyChooses(t *testing.T) {
	f := newImageFixture(t, registrytest.Options{PageSize: 4})
	f.push("app", time.Now(), "a",
		"1.0.0", "1.1.0", "1.2.0-rc.1", "2.0.0", "9", "10", "alpha", "beta", "gamma",
		"main-1700000000-abc123", "main-1800000000-def456", "main-999-0aa", "sha256-ffff.sig")
	f.repository("app", "app", nil)

	order := func(o string) *cruisev1.OrderPolicy { return &cruisev1.OrderPolicy{Order: o} }
	filter := func(p, x string) func(*cruisev1.ImagePolicySpec) {
		return func(s *cruisev1.ImagePolicySpec) { s.FilterTags = &cruisev1.TagFilter{Pattern: p, Extract: x} }
	}
	for _, tc := range []struct {
		name   string
		choice cruisev1.ImagePolicyChoice
		mutate func(*cruisev1.ImagePolicySpec)
		want   string
	}{
		{"semver-no-prereleases", semverPolicy(">=1.0.0 <2.0.0"), nil, "1.1.0"},
		{"semver-named-prerelease", semverPolicy(">=1.2.0-rc.0 <2.0.0"), nil, "1.2.0-rc.1"},
		// Masterminds' parser reads "10" as 10.0.0 (and "9" as 9.0.0):
		// a bare number is a version too.
		{"semver-any", semverPolicy("*"), nil, "10"},
		{"semver-filtered", semverPolicy("*"), filter(`^\d+\.\d+\.\d+`, ""), "2.0.0"},
		{"numerical-desc", cruisev1.ImagePolicyChoice{Numerical: order(cruisev1.OrderDesc)}, filter(`^[0-9]+$`, ""), "10"},
		{"numerical-asc", cruisev1.ImagePolicyChoice{Numerical: order(cruisev1.OrderAsc)}, filter(`^[0-9]+$`, ""), "9"},
		{"alphabetical-desc", cruisev1.ImagePolicyChoice{Alphabetical: order(cruisev1.OrderDesc)}, filter(`^[a-z]+$`, ""), "gamma"},
		{"alphabetical-asc", cruisev1.ImagePolicyChoice{Alphabetical: order(cruisev1.OrderAsc)}, filter(`^[a-z]+$`, ""), "alpha"},
		{"extract", cruisev1.ImagePolicyChoice{Numerical: order(cruisev1.OrderDesc)},
			filter(`main-(?P<ts>[0-9]+)-[a-f0-9]+`, "$ts"), "main-1800000000-def456"},
	} {
		f.policy(tc.name, "app", tc.choice, tc.mutate)
		pol := f.waitChoice(tc.name, tc.want)
		want := cruisev1.ImageRef{Name: f.image("app"), Tag: tc.want}
		if *pol.Status.LatestRef != want || pol.Status.ObservedPreviousRef != nil {
			t.Errorf("%s: latestRef %+v (previous %+v), want %+v", tc.name, pol.Status.LatestRef, pol.Status.ObservedPreviousRef, want)
		}
		if msg := readyNote(pol.Status.Conditions); !strings.Contains(msg, "chose "+tc.want) {
			t.Errorf("%s: Ready message %q", tc.name, msg)
		}
		f.waitEvent(tc.name, "NewTagChosen", f.image("app")+":"+tc.want)
	}

	for _, tc := range []struct {
		name    string
		choice  cruisev1.ImagePolicyChoice
		mutate  func(*cruisev1.ImagePolicySpec)
		reason  string
		names   string
		stalled bool
	}{
		{"bad-range", semverPolicy("one point oh"), nil, cruisev1.ReasonInvalidPolicy, `semver range "one point oh"`, true},
		{"bad-regex", semverPolicy("*"), filter(`main-(`, ""), cruisev1.ReasonInvalidPolicy, `filter pattern "main-("`, true},
		{"no-match", semverPolicy(">=100.0.0"), nil, cruisev1.ReasonNoMatchingTag, `semver range ">=100.0.0"`, false},
		{"no-match-filter", cruisev1.ImagePolicyChoice{Alphabetical: order("")}, filter(`^release-`, ""), cruisev1.ReasonNoMatchingTag, `"^release-"`, false},
	} {
		f.policy(tc.name, "app", tc.choice, tc.mutate)
		pol := f.waitPolicy(tc.name, metav1.ConditionFalse, tc.reason)
		if msg := readyNote(pol.Status.Conditions); !strings.Contains(msg, tc.names) {
			t.Errorf("%s: message %q does not name %s", tc.name, msg, tc.names)
		}
		if got := meta.IsStatusConditionTrue(pol.Status.Conditions, cruisev1.ConditionStalled); got != tc.stalled {
			t.Errorf("%s: Stalled = %v, want %v", tc.name, got, tc.stalled)
		}
		if pol.Status.LatestRef != nil {
			t.Errorf("%s: chose %v", tc.name, pol.Status.LatestRef)
		}
		if ev := f.waitEvent(tc.name, tc.reason, tc.names); ev.Type != corev1.EventTypeWarning {
			t.Errorf("%s: event type %s", tc.name, ev.Type)
		}
	}
}

// TestImagePolicyFollowsNewTags: a tag pushed, and the repository scanned
// (asked for here; on its interval otherwise), moves the choice; the
// previous one is kept in observedPreviousRef and an event says so.
func TestImagePolicyFollowsNewTags(t *testing.T) {
	f := newImageFixture(t, registrytest.Options{})
	f.push("app", time.Now(), "a", "1.0.0")
	f.repository("app", "app", nil)
	f.policy("app", "app", semverPolicy("^1"), nil)
	f.waitChoice("app", "1.0.0")

	f.push("app", time.Now(), "b", "1.1.0")
	f.rescan("app")
	pol := f.waitChoice("app", "1.1.0")
	if prev := pol.Status.ObservedPreviousRef; prev == nil || prev.Tag != "1.0.0" || prev.Name != f.image("app") {
		t.Fatalf("observedPreviousRef = %+v, want 1.0.0", prev)
	}
	f.waitEvent("app", "NewTagChosen", ":1.1.0", "was "+f.image("app")+":1.0.0")

	// A policy keeps its choice through scans that change nothing.
	f.rescan("app")
	if got := len(f.events("app", "NewTagChosen")); got != 2 {
		t.Fatalf("%d NewTagChosen events, want 2", got)
	}
}

// TestImagePolicyMinimumAge: a tag is adopted only once its image (the
// created time in its config) is old enough; the policy comes back by
// itself when a younger, preferred tag comes of age.
func TestImagePolicyMinimumAge(t *testing.T) {
	f := newImageFixture(t, registrytest.Options{})
	f.push("app", time.Now().Add(-2*time.Hour), "old", "1.0.0")
	f.push("app", time.Now(), "new", "1.1.0")
	f.repository("app", "app", nil)

	f.policy("hour", "app", semverPolicy("^1"), func(s *cruisev1.ImagePolicySpec) {
		s.MinimumAge = &metav1.Duration{Duration: time.Hour}
	})
	pol := f.waitChoice("hour", "1.0.0")
	if msg := readyNote(pol.Status.Conditions); !strings.Contains(msg, "1.1.0 is preferred but younger than the minimum age 1h0m0s") {
		t.Fatalf("Ready message %q", msg)
	}

	f.policy("seconds", "app", semverPolicy("^1"), func(s *cruisev1.ImagePolicySpec) {
		s.MinimumAge = &metav1.Duration{Duration: 3 * time.Second}
	})
	// 1.0.0 at first (unless 1.1.0 is already 3 s old), then 1.1.0
	// without anything asking.
	f.waitChoice("seconds", "1.1.0")

	f.policy("never", "app", semverPolicy(">=1.1.0"), func(s *cruisev1.ImagePolicySpec) {
		s.MinimumAge = &metav1.Duration{Duration: time.Hour}
	})
	pol = f.waitPolicy("never", metav1.ConditionFalse, cruisev1.ReasonNoMatchingTag)
	if msg := readyNote(pol.Status.Conditions); !strings.Contains(msg, "1.1.0 will be at") {
		t.Fatalf("Ready message %q", msg)
	}
}

// TestImagePolicyDigest: Always reads the digest at every scan, so a tag
// pushed again is seen; IfNotPresent keeps the digest while the tag
// stays; Never records none.
func TestImagePolicyDigest(t *testing.T) {
	f := newImageFixture(t, registrytest.Options{})
	first := f.push("app", time.Now(), "a", "1.0.0")
	f.repository("app", "app", nil)
	for _, p := range []string{cruisev1.DigestReflectAlways, cruisev1.DigestReflectIfNotPresent, cruisev1.DigestReflectNever} {
		f.policy(strings.ToLower(p), "app", semverPolicy("^1"), func(s *cruisev1.ImagePolicySpec) { s.DigestReflectionPolicy = p })
	}
	for name, want := range map[string]string{"always": first, "ifnotpresent": first, "never": ""} {
		if got := f.waitChoice(name, "1.0.0").Status.LatestRef.Digest; got != want {
			t.Fatalf("%s: digest %q, want %q", name, got, want)
		}
	}

	second := f.push("app", time.Now(), "b", "1.0.0")
	f.rescan("app")
	f.eventually("Always sees the tag pushed again", func() (bool, string) {
		ref := f.getPolicy("always").Status.LatestRef
		return ref.Digest == second, ref.String()
	})
	f.waitEvent("always", "NewTagChosen", "@"+second, "was "+f.image("app")+":1.0.0@"+first)

	v := annotate(t, &cruisev1.ImagePolicy{}, types.NamespacedName{Namespace: f.ns, Name: "ifnotpresent"})
	f.eventually("IfNotPresent reconciled", func() (bool, string) {
		pol := f.getPolicy("ifnotpresent")
		return pol.Status.LastHandledReconcileAt == v, readyNote(pol.Status.Conditions)
	})
	if got := f.getPolicy("ifnotpresent").Status.LatestRef.Digest; got != first {
		t.Fatalf("IfNotPresent: digest %s, want the first one kept, %s", got, first)
	}
}

// TestImagePolicyRepositoryRef: a missing repository waits; one in another
// namespace is refused unless its accessFrom names the policy's.
func TestImagePolicyRepositoryRef(t *testing.T) {
	f := newImageFixture(t, registrytest.Options{})
	f.push("app", time.Now(), "a", "1.0.0")

	f.policy("early", "app", semverPolicy("^1"), nil)
	pol := f.waitPolicy("early", metav1.ConditionFalse, cruisev1.ReasonRepositoryNotReady)
	if msg := readyNote(pol.Status.Conditions); !strings.Contains(msg, f.ns+"/app not found") {
		t.Fatalf("message %q", msg)
	}
	f.repository("app", "app", nil)
	f.waitChoice("early", "1.0.0")

	other := env.Namespace(t)
	f.repositoryIn(other, "shared", "app", nil)
	f.policy("cross", "shared", semverPolicy("^1"), func(s *cruisev1.ImagePolicySpec) { s.ImageRepositoryRef.Namespace = other })
	pol = f.waitPolicy("cross", metav1.ConditionFalse, cruisev1.ReasonSourceNotAllowed)
	if msg := readyNote(pol.Status.Conditions); !strings.Contains(msg, other+"/shared") || !strings.Contains(msg, f.ns) {
		t.Fatalf("message %q", msg)
	}
	shared := &cruisev1.ImageRepository{}
	if err := k8s.Get(t.Context(), types.NamespacedName{Namespace: other, Name: "shared"}, shared); err != nil {
		t.Fatal(err)
	}
	patch(t, shared, func(r *cruisev1.ImageRepository) {
		r.Spec.AccessFrom = &cruisev1.AccessFrom{Namespaces: []string{f.ns}}
	})
	f.waitChoice("cross", "1.0.0")
}
