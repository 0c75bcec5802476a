package controller_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/source/gittest"
)

// imgFixture is one image automation test: its namespace, a Git server
// that accepts pushes, and the GitRepository "env" of it.
type imgFixture struct {
	*fixture
	dir string // the bare repository on the server
}

// newImgFixture serves a repository over HTTP with opts (push enabled)
// and commits files to it; markers of namespace "apps" in the files are
// turned into markers of the test's namespace.
func newImgFixture(t testing.TB, opts gittest.HTTPOptions, files map[string]string) *imgFixture {
	t.Helper()
	ns := env.Namespace(t)
	root := t.TempDir()
	dir := filepath.Join(root, "env.git")
	repo := gittest.NewRepo(t, dir, true)
	if out, err := exec.Command("git", "-C", dir, "config", "http.receivepack", "true").CombinedOutput(); err != nil {
		t.Fatalf("enable pushes: %v: %s", err, out)
	}
	srv := gittest.ServeHTTP(t, root, opts)
	f := &imgFixture{fixture: &fixture{t: t, ns: ns, repo: repo, url: srv.RepoURL("env.git")}, dir: dir}
	if files != nil {
		f.commit("init", f.inNamespace(files))
	}
	return f
}

// with is the fixture for a subtest.
func (f *imgFixture) with(t testing.TB) *imgFixture {
	fx := *f.fixture
	fx.t = t
	return &imgFixture{fixture: &fx, dir: f.dir}
}

// inNamespace rewrites markers of namespace "apps" to the test's.
func (f *imgFixture) inNamespace(files map[string]string) map[string]string {
	out := make(map[string]string, len(files))
	for p, c := range files {
		out[p] = strings.ReplaceAll(c, `"$imagepolicy": "apps:`, `"$imagepolicy": "`+f.ns+`:`)
	}
	return out
}

// head is the server's commit of branch; "" when there is no such branch.
func (f *imgFixture) head(branch string) string {
	f.t.Helper()
	r, err := git.PlainOpen(f.dir)
	if err != nil {
		f.t.Fatal(err)
	}
	ref, err := r.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		return ""
	}
	return ref.Hash().String()
}

// show runs git show on the server's repository.
func (f *imgFixture) show(rev string) string {
	f.t.Helper()
	out, err := exec.Command("git", "-C", f.dir, "show", "--no-patch", "--format=%B", rev).Output()
	if err != nil {
		f.t.Fatalf("git show %s: %v", rev, err)
	}
	return string(out)
}

// file is path's content at rev on the server.
func (f *imgFixture) file(rev, path string) string {
	f.t.Helper()
	out, err := exec.Command("git", "-C", f.dir, "show", rev+":"+path).Output()
	if err != nil {
		f.t.Fatalf("git show %s:%s: %v", rev, path, err)
	}
	return string(out)
}

// policy creates an ImagePolicy and, when latest is set, gives it that
// choice. The ImagePolicy reconciler is not part of this branch yet, so
// the test writes status.latestRef itself through the status subresource:
// that field is the whole interface between the two reconcilers.
func (f *imgFixture) policy(name string, lbls map[string]string, latest *cruisev1.ImageRef) {
	f.t.Helper()
	p := &cruisev1.ImagePolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns, Labels: lbls},
		Spec: cruisev1.ImagePolicySpec{
			ImageRepositoryRef: cruisev1.NamespacedObjectReference{Name: name},
			Policy:             cruisev1.ImagePolicyChoice{SemVer: &cruisev1.SemVerPolicy{Range: ">=0.0.0"}},
		},
	}
	if err := k8s.Create(f.t.Context(), p); err != nil {
		f.t.Fatalf("create ImagePolicy %s: %v", name, err)
	}
	if latest != nil {
		f.choose(name, *latest)
	}
}

// choose sets an ImagePolicy's status.latestRef, standing in for its
// reconciler.
func (f *imgFixture) choose(name string, ref cruisev1.ImageRef) {
	f.t.Helper()
	p := &cruisev1.ImagePolicy{}
	if err := k8s.Get(f.t.Context(), types.NamespacedName{Namespace: f.ns, Name: name}, p); err != nil {
		f.t.Fatalf("get ImagePolicy %s: %v", name, err)
	}
	patch := client.MergeFrom(p.DeepCopy())
	p.Status.ObservedPreviousRef = p.Status.LatestRef
	p.Status.LatestRef = &ref
	if err := k8s.Status().Patch(f.t.Context(), p, patch); err != nil {
		f.t.Fatalf("set ImagePolicy %s status.latestRef: %v", name, err)
	}
}

// automation creates an ImageUpdateAutomation of GitRepository "env"
// writing under path. Its interval is long: tests trigger runs.
func (f *imgFixture) automation(name, path string, mutate func(*cruisev1.ImageUpdateAutomationSpec)) {
	f.t.Helper()
	a := &cruisev1.ImageUpdateAutomation{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec: cruisev1.ImageUpdateAutomationSpec{
			Interval:  metav1.Duration{Duration: time.Hour},
			SourceRef: cruisev1.ImageSourceReference{Kind: cruisev1.GitRepositoryKind, Name: "env"},
			Git: cruisev1.ImageGitSpec{Commit: cruisev1.GitCommitSpec{
				Author: cruisev1.CommitAuthor{Name: "cruise-bot", Email: "bot@example.com"},
			}},
			Update: &cruisev1.UpdateStrategy{Path: path},
		},
	}
	if mutate != nil {
		mutate(&a.Spec)
	}
	if err := k8s.Create(f.t.Context(), a); err != nil {
		f.t.Fatalf("create ImageUpdateAutomation %s: %v", name, err)
	}
}

func (f *imgFixture) getAuto(name string) *cruisev1.ImageUpdateAutomation {
	f.t.Helper()
	a := &cruisev1.ImageUpdateAutomation{}
	if err := k8s.Get(f.t.Context(), types.NamespacedName{Namespace: f.ns, Name: name}, a); err != nil {
		f.t.Fatalf("get ImageUpdateAutomation %s: %v", name, err)
	}
	return a
}

// run asks for a run now, as `cruise reconcile` does, and returns the
// automation once that run is over.
func (f *imgFixture) run(name string) *cruisev1.ImageUpdateAutomation {
	f.t.Helper()
	v := annotate(f.t, &cruisev1.ImageUpdateAutomation{}, types.NamespacedName{Namespace: f.ns, Name: name})
	var a *cruisev1.ImageUpdateAutomation
	f.eventually("run of "+name+" handled", func() (bool, string) {
		a = f.getAuto(name)
		return a.Status.LastHandledReconcileAt == v, a.Status.LastHandledReconcileAt
	})
	return a
}

// waitAuto waits until the automation's Ready has the given status and
// reason for its generation.
func (f *imgFixture) waitAuto(name string, status metav1.ConditionStatus, reason string) *cruisev1.ImageUpdateAutomation {
	f.t.Helper()
	var a *cruisev1.ImageUpdateAutomation
	f.eventually("ImageUpdateAutomation "+name+" Ready="+string(status)+" "+reason, func() (bool, string) {
		a = f.getAuto(name)
		c := meta.FindStatusCondition(a.Status.Conditions, cruisev1.ConditionReady)
		if c == nil {
			return false, "no Ready condition"
		}
		return c.Status == status && c.Reason == reason && c.ObservedGeneration == a.Generation,
			string(c.Status) + " " + c.Reason + ": " + c.Message
	})
	return a
}

// waitHead waits until branch on the server is not at old, and returns
// the new head.
func (f *imgFixture) waitHead(branch, old string) string {
	f.t.Helper()
	var h string
	f.eventually("a new commit on "+branch, func() (bool, string) {
		h = f.head(branch)
		return h != "" && h != old, h
	})
	return h
}

// secret creates a Secret of the test's namespace.
func (f *imgFixture) secret(name string, data map[string][]byte) {
	f.t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns}, Data: data}
	if err := k8s.Create(f.t.Context(), s); err != nil {
		f.t.Fatalf("create Secret %s: %v", name, err)
	}
}

func imageRef(name, tag string) *cruisev1.ImageRef {
	return &cruisev1.ImageRef{Name: name, Tag: tag}
}
