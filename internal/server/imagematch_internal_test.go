package server

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/image"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseImage(t *testing.T) {
	tests := []struct {
		image, repo, tag, digest string
	}{
		{"nginx", "index.docker.io/library/nginx", "latest", ""},
		{"nginx:1.27", "index.docker.io/library/nginx", "1.27", ""},
		{"docker.io/library/nginx:1.27", "index.docker.io/library/nginx", "1.27", ""},
		{"index.docker.io/bitnami/redis:7", "index.docker.io/bitnami/redis", "7", ""},
		{"registry.example.com:5000/team/web:2.0@" + digest, "registry.example.com:5000/team/web", "2.0", digest},
		{"ghcr.io/org/web@" + digest, "ghcr.io/org/web", "", digest},
		{"localhost:5000/web@" + digest, "localhost:5000/web", "", digest},
		{"Not An Image", "", "", ""},
	}
	for _, tt := range tests {
		repo, tag, d := parseImage(tt.image)
		if repo != tt.repo || tag != tt.tag || d != tt.digest {
			t.Errorf("parseImage(%q) = %q %q %q, want %q %q %q", tt.image, repo, tag, d, tt.repo, tt.tag, tt.digest)
		}
	}
}

func TestNewerTags(t *testing.T) {
	semver, err := image.NewSelector(image.SelectorSpec{Kind: image.SemVer, Range: "^1.0"})
	if err != nil {
		t.Fatal(err)
	}
	scanned := []string{"2.0.0", "1.5.0", "1.4.2", "1.4.1", "1.4.0", "latest", "sha256-abc.sig"}
	tests := []struct {
		name                string
		sel                 *image.Selector
		scanned             []string
		latest, running     string
		latestDig, runDig   string
		wantNewer           string
		wantUpdateAvailable bool
	}{
		{"behind: newer tags in the range, preferred first", semver, scanned, "1.5.0", "1.4.1", "", "", "1.5.0,1.4.2", true},
		{"at the choice", semver, scanned, "1.5.0", "1.5.0", "", "", "", false},
		{"ahead of the choice (pinned by hand)", semver, scanned, "1.4.2", "1.5.0", "", "", "", false},
		{"the choice is not among the scanned tags", semver, []string{"1.4.1"}, "1.6.0", "1.4.1", "", "", "1.6.0", true},
		{"running tag outside the range", semver, scanned, "1.5.0", "latest", "", "", "", true},
		{"no choice yet: newer scanned tags still show", semver, scanned, "", "1.4.2", "", "", "1.5.0", false},
		{"policy that does not parse", nil, scanned, "1.5.0", "1.4.1", "", "", "", true},
		{"digest only, same digest", semver, scanned, "1.5.0", "", digest, digest, "", false},
		{"digest only, another digest", semver, scanned, "1.5.0", "", digest, "sha256:ff", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			newer, update := newerTags(tt.sel, tt.scanned, tt.latest, tt.running, tt.latestDig, tt.runDig)
			if strings.Join(newer, ",") != tt.wantNewer || update != tt.wantUpdateAvailable {
				t.Errorf("newerTags = %q, %v; want %q, %v", newer, update, tt.wantNewer, tt.wantUpdateAvailable)
			}
		})
	}
}

// match pairs containers with the policies following their repository,
// however the image names it, and with the holds on those policies.
func TestCatalogMatch(t *testing.T) {
	repo := func(ns, name, img string, tags ...string) *v1alpha1.ImageRepository {
		r := &v1alpha1.ImageRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: v1alpha1.ImageRepositorySpec{Image: img}}
		if tags != nil {
			r.Status.LastScanResult = &v1alpha1.ScanResult{TagCount: len(tags), LatestTags: tags}
		}
		return r
	}
	policy := func(ns, name, repoNS, repoName string, choice v1alpha1.ImagePolicyChoice, latest string) *v1alpha1.ImagePolicy {
		p := &v1alpha1.ImagePolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: v1alpha1.ImagePolicySpec{
			ImageRepositoryRef: v1alpha1.NamespacedObjectReference{Namespace: repoNS, Name: repoName}, Policy: choice}}
		if latest != "" {
			p.Status.LatestRef = &v1alpha1.ImageRef{Name: "x", Tag: latest}
			p.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Succeeded"}}
		}
		return p
	}
	stable := v1alpha1.ImagePolicyChoice{SemVer: &v1alpha1.SemVerPolicy{Range: "^1.0"}}
	pre := v1alpha1.ImagePolicyChoice{SemVer: &v1alpha1.SemVerPolicy{Range: ">=1.0.0-0"}}
	cat := &imageCatalog{
		repos: map[string]*v1alpha1.ImageRepository{
			"apps/nginx":   repo("apps", "nginx", "docker.io/library/nginx", "1.27.1", "1.27.0", "1.26.0"),
			"images/web":   repo("images", "web", "ghcr.io/org/web", "1.3.0-rc.1", "1.2.0", "1.1.0"),
			"apps/missing": nil,
		},
		policies: []*v1alpha1.ImagePolicy{
			policy("apps", "nginx", "", "nginx", v1alpha1.ImagePolicyChoice{SemVer: &v1alpha1.SemVerPolicy{Range: "~1.27"}}, "1.27.1"),
			policy("apps", "orphan", "", "missing", stable, "1.0.0"),
			policy("apps", "web", "images", "web", stable, "1.2.0"),
			policy("apps", "web-rc", "images", "web", pre, "1.3.0-rc.1"),
		},
		holds: map[string][]apiv1.ImageHold{},
	}
	cat.addHolds(&v1alpha1.ImageUpdateAutomation{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "auto"},
		Status: v1alpha1.ImageUpdateAutomationStatus{Held: []v1alpha1.HeldImage{{Policy: "apps/web", Ref: v1alpha1.ImageRef{Name: "ghcr.io/org/web", Tag: "1.2.0"},
			Since: metav1.NewTime(time.Unix(1700000000, 0))}}}})
	w := apiv1.WorkloadRef{Kind: "Deployment", Namespace: "apps", Name: "web"}
	items := cat.match([]containerImage{
		{workload: w, name: "init", init: true, image: "nginx:1.27.0"},
		{workload: w, name: "web", image: "ghcr.io/org/web:1.1.0"},
		{workload: w, name: "sidecar", image: "quay.io/other/sidecar:3"},
	})
	var got []string
	for _, it := range items {
		held := ""
		for _, h := range it.Held {
			held += " held " + h.Tag + " by " + h.Automation
		}
		got = append(got, it.Container+" "+it.Policy+" latest="+it.Latest+" newer="+strings.Join(it.Newer, ",")+
			" update="+map[bool]string{true: "yes", false: "no"}[it.UpdateAvailable]+held)
	}
	want := []string{
		"init apps/nginx latest=1.27.1 newer=1.27.1 update=yes",
		"web apps/web latest=1.2.0 newer=1.2.0 update=yes held 1.2.0 by apps/auto",
		"web apps/web-rc latest=1.3.0-rc.1 newer=1.3.0-rc.1,1.2.0 update=yes",
		"sidecar  latest= newer= update=no",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("match:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if it := items[0]; it.Repository != "index.docker.io/library/nginx" || it.ImageRepository != "apps/nginx" || it.PolicyReady != "True" || !it.Init {
		t.Errorf("first item %+v", it)
	}
}
