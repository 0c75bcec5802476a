package controller_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/source/gittest"
)

// The setter fixtures are internal/imageupdate's: a kustomization's
// images, a Helm values file and a Deployment, with every marker form.
const allForms = "../imageupdate/testdata/all-forms"

var (
	app1   = imageRef("registry.example/app", "1.0.0")
	app2   = &cruisev1.ImageRef{Name: "registry.example/app", Tag: "1.1.0", Digest: "sha256:" + strings.Repeat("2", 64)}
	worker = imageRef("registry.example/worker", "2024.2")
)

// readTree reads dir's files under prefix, by slash path.
func readTree(t *testing.T, dir, prefix string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		out[prefix+filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestImageUpdateAllForms: one run rewrites every marker form under the
// path, byte for byte as internal/imageupdate's fixtures say, in one
// commit by the configured author with the default message; a marker
// outside the path stays. The status records the push and what each
// policy chose, and a Normal event names the commit. A second run finds
// nothing to change and commits nothing.
func TestImageUpdateAllForms(t *testing.T) {
	files := readTree(t, allForms+"/in", "apps/")
	outside := "image: registry.example/app:1.0.0 # {\"$imagepolicy\": \"apps:app\"}\n"
	files["other/deploy.yaml"] = outside
	f := newImgFixture(t, gittest.HTTPOptions{}, files)
	start := f.head("main")
	f.sourceNamed("env", nil)
	f.policy("app", nil, app2)
	f.policy("worker", nil, worker)
	f.automation("web", "apps", nil)

	a := f.waitAuto("web", metav1.ConditionTrue, cruisev1.ReasonSucceeded)
	head := f.head("main")
	if head == start || a.Status.LastPushCommit != head || a.Status.LastPushTime == nil || a.Status.LastAutomationRunTime == nil {
		t.Fatalf("head %s, status %+v: want the pushed commit recorded", head, a.Status)
	}
	want := f.inNamespace(readTree(t, allForms+"/want", "apps/"))
	for p, w := range want {
		if got := f.file(head, p); got != w {
			t.Errorf("%s after the run:\n%s\nwant:\n%s", p, got, w)
		}
	}
	if got := f.file(head, "other/deploy.yaml"); got != f.inNamespace(map[string]string{"x": outside})["x"] {
		t.Errorf("a file outside spec.update.path changed:\n%s", got)
	}
	msg := f.show(head)
	if !strings.HasPrefix(msg, "Update images\n\n- "+f.ns+"/app: registry.example/app:1.0.0 → registry.example/app:1.1.0 (apps/deploy.yaml:10)\n") ||
		strings.Count(msg, "\n- ") != 7 {
		t.Errorf("commit message:\n%s", msg)
	}
	if author := gitLog(t, f.dir, "%an <%ae>", head); author != "cruise-bot <bot@example.com>" {
		t.Errorf("author %q", author)
	}
	if parent := gitLog(t, f.dir, "%P", head); parent != start {
		t.Errorf("parent %s, want %s: one commit per run", parent, start)
	}
	wantObserved := map[string]cruisev1.ImageRef{f.ns + "/app": *app2, f.ns + "/worker": *worker}
	if !mapsEqual(a.Status.ObservedPolicies, wantObserved) {
		t.Errorf("observedPolicies %v, want %v", a.Status.ObservedPolicies, wantObserved)
	}
	if ev := f.events("web", "CommitPushed"); len(ev) != 1 || !strings.Contains(ev[0].Note, head[:7]) || !strings.Contains(ev[0].Note, f.ns+"/app") {
		t.Errorf("CommitPushed events %v: want one naming %s", ev, head[:7])
	}

	a = f.run("web")
	if c := f.head("main"); c != head {
		t.Fatalf("second run committed %s", c)
	}
	if !ready(a.Status.Conditions, a.Generation) || conditionReason(a) != cruisev1.ReasonUpToDate {
		t.Errorf("second run: %v", a.Status.Conditions)
	}
}

// TestImageUpdatePolicyChangeTriggersRun: a new choice of a selected
// policy runs the automation at once (the interval is an hour); a policy
// the selector leaves out triggers nothing and its marker is reported.
func TestImageUpdatePolicyChangeTriggersRun(t *testing.T) {
	f := newImgFixture(t, gittest.HTTPOptions{}, map[string]string{
		"apps/a.yaml": "a: registry.example/app:1.0.0 # {\"$imagepolicy\": \"apps:app\"}\n",
	})
	f.sourceNamed("env", nil)
	f.policy("app", map[string]string{"team": "web"}, app1)
	f.automation("web", "apps", func(s *cruisev1.ImageUpdateAutomationSpec) {
		s.PolicySelector = &metav1.LabelSelector{MatchLabels: map[string]string{"team": "web"}}
	})
	f.waitAuto("web", metav1.ConditionTrue, cruisev1.ReasonUpToDate)
	start := f.head("main")

	f.choose("app", *imageRef("registry.example/app", "1.0.1"))
	head := f.waitHead("main", start)
	if got := f.file(head, "apps/a.yaml"); !strings.Contains(got, "a: registry.example/app:1.0.1 #") {
		t.Errorf("after the policy moved:\n%s", got)
	}
}

// TestImageUpdateMissingPolicy: markers naming a policy that does not
// exist, one the selector leaves out and one of another namespace are
// each reported (Ready False, a Warning event, the marker and file:line in
// the message); the marker that names a usable policy is still written.
func TestImageUpdateMissingPolicy(t *testing.T) {
	f := newImgFixture(t, gittest.HTTPOptions{}, map[string]string{
		"apps/a.yaml": "" +
			"a: registry.example/app:1.0.0 # {\"$imagepolicy\": \"apps:app\"}\n" +
			"b: x:1 # {\"$imagepolicy\": \"apps:nope\"}\n" +
			"c: x:1 # {\"$imagepolicy\": \"apps:hidden\"}\n" +
			"d: x:1 # {\"$imagepolicy\": \"elsewhere:app\"}\n",
	})
	f.sourceNamed("env", nil)
	f.policy("app", map[string]string{"auto": "yes"}, app2)
	f.policy("hidden", nil, app2)
	f.automation("web", "apps", func(s *cruisev1.ImageUpdateAutomationSpec) {
		s.PolicySelector = &metav1.LabelSelector{MatchLabels: map[string]string{"auto": "yes"}}
	})
	a := f.waitAuto("web", metav1.ConditionFalse, cruisev1.ReasonPolicyNotFound)
	msg := readyMessage(a.Status.Conditions)
	for _, want := range []string{
		"marker " + f.ns + ":nope at apps/a.yaml:2: no ImagePolicy " + f.ns + "/nope",
		"marker " + f.ns + ":hidden at apps/a.yaml:3: ImagePolicy " + f.ns + "/hidden is not selected by spec.policySelector",
		"marker elsewhere:app at apps/a.yaml:4: an automation uses only ImagePolicies of its own namespace",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("Ready message %q does not say %q", msg, want)
		}
	}
	if got := f.file("main", "apps/a.yaml"); !strings.HasPrefix(got, "a: "+app2.String()+" #") || !strings.Contains(got, "b: x:1 #") {
		t.Errorf("file after the run:\n%s", got)
	}
	if ev := f.events("web", cruisev1.ReasonPolicyNotFound); len(ev) == 0 || ev[0].Type != "Warning" || !strings.Contains(ev[0].Note, f.ns+":nope at apps/a.yaml:2") {
		t.Errorf("PolicyNotFound events %v", ev)
	}
}

// TestImageUpdatePushBranchTemplate: with a templated push branch each
// update goes to a branch of its own, named after the changes, with the
// templated message; the checkout branch is untouched, and a second run
// finds the branch already holding the update.
func TestImageUpdatePushBranchTemplate(t *testing.T) {
	f := newImgFixture(t, gittest.HTTPOptions{}, map[string]string{
		"apps/a.yaml": "image: registry.example/app:1.0.0 # {\"$imagepolicy\": \"apps:app\"}\n",
	})
	start := f.head("main")
	f.sourceNamed("env", nil)
	f.policy("app", nil, app1)
	f.automation("web", "apps", func(s *cruisev1.ImageUpdateAutomationSpec) {
		s.Git.Push = &cruisev1.GitPushSpec{Branch: "image-updates/{{ .ChangeID }}"}
		s.Git.Commit.MessageTemplate = "{{ .AutomationName }}: {{ range .Changes }}{{ .Image }} {{ .OldTag }} to {{ .NewTag }}{{ end }}\n"
	})
	f.waitAuto("web", metav1.ConditionTrue, cruisev1.ReasonUpToDate)

	f.choose("app", *imageRef("registry.example/app", "1.1.0"))
	var a *cruisev1.ImageUpdateAutomation
	f.eventually("a push to an image-updates/ branch", func() (bool, string) {
		a = f.getAuto("web")
		return a.Status.LastPushCommit != "", readyMessage(a.Status.Conditions)
	})
	refs := strings.Fields(gitOut(t, f.dir, "for-each-ref", "--format=%(refname:short)", "refs/heads/image-updates/"))
	if len(refs) != 1 || len(refs[0]) != len("image-updates/")+10 {
		t.Fatalf("branches %q: want one image-updates/<change ID> (%s)", refs, readyMessage(a.Status.Conditions))
	}
	branch := refs[0]
	if h := f.head(branch); h != a.Status.LastPushCommit {
		t.Fatalf("branch %s at %s, lastPushCommit %s", branch, h, a.Status.LastPushCommit)
	}
	if got := gitOut(t, f.dir, "cat-file", "commit", branch); !strings.HasSuffix(got, "\n\nweb: registry.example/app 1.0.0 to 1.1.0\n") {
		t.Errorf("message %q", got)
	}
	if f.head("main") != start {
		t.Error("the checkout branch changed")
	}

	a = f.run("web")
	if readyMessage(a.Status.Conditions) != "branch "+branch+" already holds the update of main" || a.Status.LastPushCommit != f.head(branch) {
		t.Errorf("second run: %q, branch at %s", readyMessage(a.Status.Conditions), f.head(branch))
	}
}

// TestImageUpdateRacing: two automations of one branch, run at once by
// one policy change, both land: the one pushed second was re-done on top
// of the first, nothing is lost and nothing forced.
func TestImageUpdateRacing(t *testing.T) {
	f := newImgFixture(t, gittest.HTTPOptions{}, map[string]string{
		"a/deploy.yaml": "image: registry.example/app:1.0.0 # {\"$imagepolicy\": \"apps:app\"}\n",
		"b/deploy.yaml": "image: registry.example/app:1.0.0 # {\"$imagepolicy\": \"apps:app\"}\n",
	})
	start := f.head("main")
	f.sourceNamed("env", nil)
	f.policy("app", nil, app1)
	f.automation("a", "a", nil)
	f.automation("b", "b", nil)
	f.waitAuto("a", metav1.ConditionTrue, cruisev1.ReasonUpToDate)
	f.waitAuto("b", metav1.ConditionTrue, cruisev1.ReasonUpToDate)

	f.choose("app", *app2)
	var pushed [2]string
	f.eventually("both automations pushed", func() (bool, string) {
		for i, name := range []string{"a", "b"} {
			pushed[i] = f.getAuto(name).Status.LastPushCommit
		}
		return pushed[0] != "" && pushed[1] != "", pushed[0] + " " + pushed[1]
	})
	head := f.head("main")
	for _, p := range []string{"a/deploy.yaml", "b/deploy.yaml"} {
		if got := f.file(head, p); !strings.HasPrefix(got, "image: "+app2.String()+" #") {
			t.Errorf("%s: %q: an update was lost", p, got)
		}
	}
	if n := gitOut(t, f.dir, "log", "--format=%H", start+".."+head); len(strings.Fields(n)) != 2 {
		t.Errorf("commits since the start: %q, want two, one on top of the other", n)
	}
}

// TestImageUpdateSuspend: a suspended automation commits nothing, even
// when a policy moves; resumed, it writes the policy's choice.
func TestImageUpdateSuspend(t *testing.T) {
	f := newImgFixture(t, gittest.HTTPOptions{}, map[string]string{
		"apps/a.yaml": "image: registry.example/app:1.0.0 # {\"$imagepolicy\": \"apps:app\"}\n",
	})
	start := f.head("main")
	f.sourceNamed("env", nil)
	f.policy("app", nil, app1)
	f.automation("web", "apps", func(s *cruisev1.ImageUpdateAutomationSpec) { s.Suspend = true })
	f.waitAuto("web", metav1.ConditionUnknown, cruisev1.ReasonSuspended)
	f.choose("app", *app2)
	a := f.run("web")
	if f.head("main") != start || a.Status.LastPushCommit != "" || a.Status.LastAutomationRunTime != nil {
		t.Fatalf("a suspended automation ran: head %s, status %+v", f.head("main"), a.Status)
	}

	a = f.getAuto("web")
	a.Spec.Suspend = false
	if err := k8s.Update(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	f.waitAuto("web", metav1.ConditionTrue, cruisev1.ReasonSucceeded)
	if got := f.file("main", "apps/a.yaml"); !strings.HasPrefix(got, "image: "+app2.String()) {
		t.Errorf("after resume: %q", got)
	}
}

// gitLog is git log -1 --format=format rev on dir.
func gitLog(t *testing.T, dir, format, rev string) string {
	t.Helper()
	return strings.TrimSpace(gitOut(t, dir, "log", "-1", "--format="+format, rev))
}

// gitOut runs git in dir.
func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).Output()
	if err != nil {
		t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

func conditionReason(a *cruisev1.ImageUpdateAutomation) string {
	for _, c := range a.Status.Conditions {
		if c.Type == cruisev1.ConditionReady {
			return c.Reason
		}
	}
	return ""
}

func mapsEqual(a, b map[string]cruisev1.ImageRef) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
