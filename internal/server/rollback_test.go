package server_test

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
	"github.com/cruisegitops/cruise/internal/source/gittest"
)

// gitops is one test's Git server (with credentials), repository and
// GitRepository + Application "web" deploying apps/web.
type gitops struct {
	t    *testing.T
	ns   string
	repo *gittest.Repo
	dir  string
}

const gitUser, gitPass = "cruise-bot", "push-s3cret"

func newGitops(t *testing.T) *gitops {
	t.Helper()
	ns := env.Namespace(t)
	root := t.TempDir()
	dir := filepath.Join(root, "env.git")
	repo := gittest.NewRepo(t, dir, true)
	if out, err := exec.Command("git", "-C", dir, "config", "http.receivepack", "true").CombinedOutput(); err != nil {
		t.Fatalf("enable push: %v: %s", err, out)
	}
	srv := gittest.ServeHTTP(t, root, gittest.HTTPOptions{Username: gitUser, Password: gitPass})
	g := &gitops{t: t, ns: ns, repo: repo, dir: dir}
	g.commit("web v1", "1")
	ctx := t.Context()
	must(t, k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "git-creds", Namespace: ns},
		StringData: map[string]string{"username": gitUser, "password": gitPass}}))
	must(t, k8s.Create(ctx, &v1alpha1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: "env", Namespace: ns},
		Spec: v1alpha1.GitRepositorySpec{URL: srv.RepoURL("env.git"), Ref: &v1alpha1.GitRef{Branch: "main"},
			Interval: metav1.Duration{Duration: time.Hour}, SecretRef: &v1alpha1.LocalObjectReference{Name: "git-creds"}}}))
	must(t, k8s.Create(ctx, &v1alpha1.Application{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: v1alpha1.ApplicationSpec{SourceRef: v1alpha1.SourceReference{Name: "env"}, Path: "apps/web", Prune: true,
			Interval: metav1.Duration{Duration: time.Hour}}}))
	return g
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// commit writes the ConfigMap with data v=version (and an unrelated file).
func (g *gitops) commit(msg, version string) string {
	return g.repo.Commit(msg, map[string]string{
		"apps/web/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  v: \"" + version + "\"\n",
		"README.md":            "env repo\n",
	})
}

// fetch asks the operator to fetch now (as a push webhook would) and waits
// until the Application applied commit.
func (g *gitops) deployed(commit string) {
	g.t.Helper()
	repo := &v1alpha1.GitRepository{}
	must(g.t, k8s.Get(g.t.Context(), objKey(g.ns, "env"), repo))
	patch := client.MergeFrom(repo.DeepCopy())
	if repo.Annotations == nil {
		repo.Annotations = map[string]string{}
	}
	repo.Annotations[v1alpha1.ReconcileRequestAnnotation] = time.Now().Format(time.RFC3339Nano)
	must(g.t, k8s.Patch(g.t.Context(), repo, patch))
	clustertestEventually(g.t, func() (bool, string) {
		app := &v1alpha1.Application{}
		if err := k8s.Get(g.t.Context(), objKey(g.ns, "web"), app); err != nil {
			return false, err.Error()
		}
		ready := meta.FindStatusCondition(app.Status.Conditions, v1alpha1.ConditionReady)
		return strings.HasSuffix(app.Status.LastAppliedRevision, commit) && ready != nil && ready.Status == metav1.ConditionTrue,
			app.Status.LastAppliedRevision
	})
}

func (g *gitops) liveVersion() string {
	cm := &corev1.ConfigMap{}
	if err := k8s.Get(g.t.Context(), objKey(g.ns, "web"), cm); err != nil {
		return err.Error()
	}
	return cm.Data["v"]
}

func (g *gitops) head() *gitHead {
	r, err := git.PlainOpen(g.dir)
	must(g.t, err)
	ref, err := r.Reference(plumbing.NewBranchReferenceName("main"), true)
	must(g.t, err)
	c, err := r.CommitObject(ref.Hash())
	must(g.t, err)
	h := &gitHead{SHA: c.Hash.String(), Author: c.Author.Name, Message: c.Message}
	if len(c.ParentHashes) > 0 {
		h.Parent = c.ParentHashes[0].String()
	}
	return h
}

type gitHead struct{ SHA, Author, Message, Parent string }

// TestRollback: alice rolls web back from v2 to v1. The server pushes a
// revert commit (author alice, message naming her and the target) with
// the Secret's credentials, read as alice; the operator deploys it like
// any commit. A later rollback that would discard an undeployed commit to
// the same file is refused with the file named, and nothing is pushed.
func TestRollback(t *testing.T) {
	g := newGitops(t)
	c1 := g.head().SHA
	g.deployed(c1)
	c2 := g.commit("web v2", "2")
	g.deployed(c2)
	if v := g.liveVersion(); v != "2" {
		t.Fatalf("live v = %s, want 2", v)
	}
	aliceName, viewerName := uniqueUser("alice"), uniqueUser("viewer")
	bindRole(t, g.ns, aliceName, "cruise-operator")
	must(t, k8s.Create(t.Context(), &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "read-push-creds", Namespace: g.ns},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{"git-creds"}, Verbs: []string{"get"}}}}))
	must(t, k8s.Create(t.Context(), &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "alice-push", Namespace: g.ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "read-push-creds"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: aliceName}}}))
	ts := newTestServer(t, map[string][]string{aliceName: nil, viewerName: nil})
	bindRole(t, g.ns, viewerName, "cruise-viewer")
	path := "/api/v1/namespaces/" + g.ns + "/applications/web/rollback"

	// A viewer may not roll back: Kubernetes refuses the dry-run update.
	var e apiv1.ErrorResponse
	if code := ts.call("POST", path, ts.token(viewerName), apiv1.RollbackRequest{Revision: c1[:7]}, &e); code != 403 || e.Error.Code != apiv1.CodeForbidden {
		t.Fatalf("viewer rollback = %d %+v, want 403", code, e.Error)
	}
	if h := g.head(); h.SHA != c2 {
		t.Fatalf("viewer's rollback pushed %s", h.SHA)
	}

	alice := ts.token(aliceName)
	var res apiv1.RollbackResult
	if code := ts.call("POST", path, alice, apiv1.RollbackRequest{Revision: c1[:7]}, &res); code != 200 {
		t.Fatalf("rollback = %d %+v", code, res)
	}
	h := g.head()
	if h.SHA != res.Commit || h.Parent != c2 || res.Target != c1 || res.Branch != "main" || !slices.Equal(res.Changed, []string{"apps/web/config.yaml"}) {
		t.Fatalf("result %+v, head %+v: want a commit on %s restoring apps/web/config.yaml to %s", res, h, c2, c1)
	}
	if h.Author != aliceName || !strings.Contains(h.Message, aliceName) || !strings.Contains(h.Message, c1) {
		t.Errorf("commit by %q with message %q: want alice, naming her and %s", h.Author, h.Message, c1)
	}
	g.deployed(res.Commit)
	if v := g.liveVersion(); v != "1" {
		t.Errorf("after rollback live v = %s, want 1", v)
	}
	var hist apiv1.History
	ts.call("GET", "/api/v1/namespaces/"+g.ns+"/applications/web/history", alice, nil, &hist)
	if len(hist.Items) == 0 || hist.Items[0].Commit != res.Commit || hist.Items[0].Result != "Succeeded" {
		t.Errorf("history head = %+v, want the revert %s", hist.Items, res.Commit)
	}

	// Someone pushes v3, not deployed yet; rolling back now would silently
	// drop it.
	c3 := g.commit("web v3", "3")
	e = apiv1.ErrorResponse{}
	if code := ts.call("POST", path, alice, apiv1.RollbackRequest{Revision: c2}, &e); code != 409 || e.Error.Code != apiv1.CodeConflict ||
		!slices.Equal(e.Error.Files, []string{"apps/web/config.yaml"}) {
		t.Fatalf("conflicting rollback = %d %+v, want 409 naming apps/web/config.yaml", code, e.Error)
	}
	if h := g.head(); h.SHA != c3 {
		t.Errorf("conflicting rollback pushed: head %s, want %s", h.SHA, c3)
	}

	// A revision that is not in the application's history, as a prefix.
	e = apiv1.ErrorResponse{}
	if code := ts.call("POST", path, alice, apiv1.RollbackRequest{Revision: "0000000"}, &e); code != 422 || e.Error.Code != apiv1.CodeNotRollbackable {
		t.Errorf("unknown revision = %d %+v, want 422", code, e.Error)
	}
}
