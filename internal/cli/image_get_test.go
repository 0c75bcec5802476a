package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/cruisegitops/cruise/api/v1alpha1"
)

// imageFixture creates, with the CLI, the ImageRepository web, the
// ImagePolicies web (which has chosen 1.4.2, as its status says) and
// canary (nothing chosen yet), and the ImageUpdateAutomation web, which
// holds web at 1.4.1 after a rollback.
func imageFixture(t *testing.T, k *kubeTest) {
	t.Helper()
	k.run(t, 0, "create", "image", "repository", "web", "--image", "ghcr.io/org/web")
	k.run(t, 0, "create", "image", "policy", "web", "--image-ref", "web", "--select-semver", "^1.0")
	k.run(t, 0, "create", "image", "policy", "canary", "--image-ref", "web", "--select-alpha", "desc")
	k.run(t, 0, "create", "image", "update", "web", "--source", "web", "--path", "deploy",
		"--author-name", "cruise", "--author-email", "cruise@example.com")
	ctx := t.Context()
	policy := &v1alpha1.ImagePolicy{}
	must(t, k.c.Get(ctx, client.ObjectKey{Namespace: k.ns, Name: "web"}, policy))
	policy.Status = v1alpha1.ImagePolicyStatus{
		LatestRef:  &v1alpha1.ImageRef{Name: "ghcr.io/org/web", Tag: "1.4.2"},
		Conditions: []metav1.Condition{readyCondition(metav1.ConditionTrue, "Succeeded", "chose ghcr.io/org/web:1.4.2")},
	}
	must(t, k.c.Status().Update(ctx, policy))
	auto := &v1alpha1.ImageUpdateAutomation{}
	must(t, k.c.Get(ctx, client.ObjectKey{Namespace: k.ns, Name: "web"}, auto))
	auto.Status.Held = []v1alpha1.HeldImage{{Policy: k.ns + "/web", Ref: v1alpha1.ImageRef{Name: "ghcr.io/org/web", Tag: "1.4.1"},
		Commit: "0123456789abcdef0123456789abcdef01234567", Since: metav1.NewTime(time.Now().Add(-time.Hour).Truncate(time.Second))}}
	must(t, k.c.Status().Update(ctx, auto))
}

func TestGetImages(t *testing.T) {
	t.Parallel()
	k := newKubeTest(t)
	imageFixture(t, k)

	r := k.run(t, 0, "get", "images")
	if got, want := strings.Join(fields(strings.SplitN(r.stdout, "\n", 2)[0]), ","), "POLICY,IMAGE,TAG,READY,HELD,MESSAGE"; got != want {
		t.Errorf("header %s, want %s", got, want)
	}
	if got := tableRow(t, r.stdout, "web"); strings.Join(got, "|") != "web|ghcr.io/org/web|1.4.2|True|1.4.1 by web|chose ghcr.io/org/web:1.4.2" {
		t.Errorf("row of web %q, want its image, chosen tag, Ready, the hold and the message", got)
	}
	// canary chose nothing yet: the image comes from its repository; the
	// empty TAG and HELD cells merge into the padding.
	if got := tableRow(t, r.stdout, "canary"); strings.Join(got, "|") != "canary|ghcr.io/org/web|Unknown" {
		t.Errorf("row of canary %q, want its repository's image and Ready Unknown", got)
	}
	if strings.Index(r.stdout, "\ncanary ") > strings.Index(r.stdout, "\nweb ") {
		t.Errorf("rows not sorted by name:\n%s", r.stdout)
	}

	r = mustCruise(t, 0, "get", "images", "-A", "--kubeconfig", env.Cluster.Kubeconfig)
	if !strings.HasPrefix(r.stdout, "NAMESPACE ") {
		t.Errorf("get images -A lacks the NAMESPACE column:\n%s", r.stdout)
	}
	if got := tableRow(t, r.stdout, k.ns); got[1] != "canary" {
		t.Errorf("first row of namespace %s: %q, want canary", k.ns, got)
	}

	r = k.run(t, 0, "get", "images", "-o", "json")
	var rows struct {
		Items []struct {
			Namespace, Policy, Image, Tag, Ready string
			Held                                 []struct {
				Automation, Image, Commit string
				Since                     time.Time
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("get images -o json: %v\n%s", err, r.stdout)
	}
	if len(rows.Items) != 2 || rows.Items[1].Policy != "web" || rows.Items[1].Tag != "1.4.2" || len(rows.Items[1].Held) != 1 ||
		rows.Items[1].Held[0].Automation != k.ns+"/web" || rows.Items[1].Held[0].Image != "ghcr.io/org/web:1.4.1" ||
		rows.Items[1].Held[0].Since.IsZero() || len(rows.Items[0].Held) != 0 {
		t.Errorf("get images -o json = %+v", rows)
	}

	empty := newKubeTest(t)
	r = empty.run(t, 0, "get", "images")
	if r.stdout != "" || r.stderr != "no ImagePolicies found in namespace "+empty.ns+"\n" {
		t.Errorf("empty namespace: stdout %q, stderr %q", r.stdout, r.stderr)
	}
}

// get image repository|policy|update has get's table and -o.
func TestGetImageKinds(t *testing.T) {
	t.Parallel()
	k := newKubeTest(t)
	imageFixture(t, k)
	k.run(t, 0, "suspend", "image", "update", "web")

	r := k.run(t, 0, "get", "image", "policies")
	if got := tableRow(t, r.stdout, "web"); got[1] != "True" || got[2] != "ghcr.io/org/web:1.4.2" || got[3] != "false" {
		t.Errorf("get image policies: row %q, want Ready True, the chosen image, not suspended", got)
	}
	tableRow(t, r.stdout, "canary")
	r = k.run(t, 0, "get", "image", "update", "web")
	if got := tableRow(t, r.stdout, "web"); got[1] != "Unknown" || got[2] != "true" {
		t.Errorf("get image update web: row %q, want Ready Unknown, suspended", got)
	}
	r = k.run(t, 0, "get", "image", "repository", "web", "-o", "yaml")
	var repo v1alpha1.ImageRepository
	if err := yaml.UnmarshalStrict([]byte(r.stdout), &repo); err != nil {
		t.Fatalf("get image repository web -o yaml: %v\n%s", err, r.stdout)
	}
	if repo.Kind != "ImageRepository" || repo.APIVersion != "cruise.dev/v1alpha1" || repo.Spec.Image != "ghcr.io/org/web" {
		t.Errorf("get image repository web -o yaml = %+v", repo)
	}
	r = k.run(t, 0, "get", "image", "repos", "-o", "json")
	var list v1alpha1.ImageRepositoryList
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || list.Kind != "ImageRepositoryList" || len(list.Items) != 1 {
		t.Errorf("get image repos -o json = %+v (%v)", list, err)
	}
	empty := newKubeTest(t)
	r = empty.run(t, 0, "get", "image", "update")
	if r.stderr != "no ImageUpdateAutomations found in namespace "+empty.ns+"\n" {
		t.Errorf("empty namespace: stderr %q", r.stderr)
	}
}

func TestSuspendResumeImages(t *testing.T) {
	t.Parallel()
	k := newKubeTest(t)
	imageFixture(t, k)
	ctx := t.Context()
	repoRef, autoRef := "ImageRepository/"+k.ns+"/web", "ImageUpdateAutomation/"+k.ns+"/web"
	getRepo := func() *v1alpha1.ImageRepository {
		repo := &v1alpha1.ImageRepository{}
		must(t, k.c.Get(ctx, client.ObjectKey{Namespace: k.ns, Name: "web"}, repo))
		return repo
	}
	getAuto := func() *v1alpha1.ImageUpdateAutomation {
		auto := &v1alpha1.ImageUpdateAutomation{}
		must(t, k.c.Get(ctx, client.ObjectKey{Namespace: k.ns, Name: "web"}, auto))
		return auto
	}

	r := k.run(t, 0, "suspend", "image", "repository", "web")
	wantLines(t, r.stdout, "✓ "+repoRef+" suspended")
	if !getRepo().Spec.Suspend {
		t.Error("suspend image repository: spec.suspend is false")
	}
	r = k.run(t, 0, "resume", "image", "repo", "web")
	wantLines(t, r.stdout, "✓ "+repoRef+" resumed, reconcile requested")
	if repo := getRepo(); repo.Spec.Suspend {
		t.Error("resume image repository: spec.suspend is still true")
	} else {
		requestedAt(t, repo.Annotations)
	}

	r = k.run(t, 0, "suspend", "image", "update", "web")
	wantLines(t, r.stdout, "✓ "+autoRef+" suspended")
	if !getAuto().Spec.Suspend {
		t.Error("suspend image update: spec.suspend is false")
	}
	before := time.Now().Add(-time.Second)
	r = k.run(t, 0, "resume", "image", "update", "web")
	wantLines(t, r.stdout, "✓ "+autoRef+" resumed, holds released, reconcile requested",
		"  hold of "+k.ns+"/web on ghcr.io/org/web:1.4.1 released")
	auto := getAuto()
	if auto.Spec.Suspend {
		t.Error("resume image update: spec.suspend is still true")
	}
	released, err := time.Parse(time.RFC3339Nano, auto.Annotations[v1alpha1.ReleaseHoldsAnnotation])
	if err != nil || released.Before(before) {
		t.Errorf("annotation %s = %q (%v), want the time of the resume", v1alpha1.ReleaseHoldsAnnotation, auto.Annotations[v1alpha1.ReleaseHoldsAnnotation], err)
	}
	if at := auto.Annotations[v1alpha1.ReconcileRequestAnnotation]; at != auto.Annotations[v1alpha1.ReleaseHoldsAnnotation] {
		t.Errorf("reconcile request %q, want the release's value %q: one request", at, auto.Annotations[v1alpha1.ReleaseHoldsAnnotation])
	}
	// Resuming a running automation lifts its holds too.
	r = k.run(t, 0, "resume", "image", "update", "web")
	wantLines(t, r.stdout, "✓ "+autoRef+" resumed, holds released, reconcile requested")
	if again := getAuto().Annotations[v1alpha1.ReleaseHoldsAnnotation]; again == auto.Annotations[v1alpha1.ReleaseHoldsAnnotation] {
		t.Error("a second resume did not renew the release request")
	}

	// ImagePolicies have no spec.suspend: both verbs refuse and say what
	// to do instead.
	for _, verb := range []string{"suspend", "resume"} {
		r = k.run(t, 2, verb, "image", "policy", "web")
		wantContains(t, r.stderr, "ImagePolicies cannot be "+verb, "cruise "+verb+" image repository NAME", "cruise "+verb+" image update NAME")
	}
	policy := &v1alpha1.ImagePolicy{}
	must(t, k.c.Get(ctx, client.ObjectKey{Namespace: k.ns, Name: "web"}, policy))
	if policy.Annotations != nil {
		t.Errorf("refused suspend touched the policy: annotations %v", policy.Annotations)
	}

	// Reconcile, events and delete work on the image kinds as on the others.
	r = k.run(t, 0, "reconcile", "image", "policy", "web")
	wantLines(t, r.stdout, "► ImagePolicy/"+k.ns+"/web: reconcile requested")
	must(t, k.c.Get(ctx, client.ObjectKey{Namespace: k.ns, Name: "web"}, policy))
	requestedAt(t, policy.Annotations)
	r = k.run(t, 0, "events", "image", "update", "web")
	if r.stderr != "no events found for "+autoRef+"\n" {
		t.Errorf("events image update web: stderr %q", r.stderr)
	}
	r = k.run(t, 0, "delete", "image", "policy", "canary")
	wantLines(t, r.stdout, "✓ ImagePolicy/"+k.ns+"/canary deleted")
}

// Every image command names the missing object and exits with 2.
func TestImageCommandsNotFound(t *testing.T) {
	t.Parallel()
	k := newKubeTest(t)
	for _, c := range []struct {
		args []string
		kind string
	}{
		{[]string{"get", "image", "policy", "missing"}, "ImagePolicy"},
		{[]string{"get", "image", "repository", "missing"}, "ImageRepository"},
		{[]string{"suspend", "image", "update", "missing"}, "ImageUpdateAutomation"},
		{[]string{"resume", "image", "update", "missing"}, "ImageUpdateAutomation"},
		{[]string{"resume", "image", "repository", "missing"}, "ImageRepository"},
		{[]string{"reconcile", "image", "policy", "missing"}, "ImagePolicy"},
		{[]string{"delete", "image", "update", "missing"}, "ImageUpdateAutomation"},
	} {
		r := k.run(t, 2, c.args...)
		if want := "Error: " + c.kind + "/" + k.ns + "/missing not found\n"; r.stderr != want {
			t.Errorf("cruise %s: stderr %q, want %q", strings.Join(c.args, " "), r.stderr, want)
		}
	}
	// The API of a cruise server serves Applications only.
	r := mustCruise(t, 2, "get", "images", "--server", "https://cruise.example.com")
	wantContains(t, r.stderr, "the cruise server's API cannot get ImagePolicies: use --kubeconfig or --context instead of --server")
}
