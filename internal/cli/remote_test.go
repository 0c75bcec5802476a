package cli_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/server"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
	"github.com/cruisegitops/cruise/internal/source/gittest"
	"github.com/cruisegitops/cruise/oauth"
	"github.com/cruisegitops/cruise/oauth/password"
	"github.com/cruisegitops/cruise/oauth/store"
	"github.com/cruisegitops/cruise/oauth/store/sqlstore"
)

// cruiseServer is the real cruise server (package server) with its
// built-in authorization server, acting on the test cluster; it
// impersonates the users, whose rights are RBAC's.
type cruiseServer struct {
	url, issuer string
	user, pw    string
}

func newCruiseServer(t *testing.T) *cruiseServer {
	t.Helper()
	ctx := t.Context()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var h atomic.Value
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.Load().(http.Handler).ServeHTTP(w, r) }))
	t.Cleanup(hs.Close)
	cs := &cruiseServer{url: hs.URL, issuer: hs.URL + "/auth", user: "bob", pw: "correct horse battery"}
	hash, err := password.Hash(cs.pw, password.Params{MemoryKiB: 1024, Time: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(ctx, store.User{ID: "bob-id", Name: cs.user, PasswordHash: hash, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := server.RegisterClients(ctx, st, hs.URL); err != nil {
		t.Fatal(err)
	}
	as, err := oauth.New(ctx, oauth.Options{Issuer: cs.issuer, Store: st, Scopes: server.APIScopes()})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(ctx, server.Options{Kube: env.Config, PublicURL: hs.URL, CacheDir: t.TempDir(),
		Auth: server.AuthOptions{Builtin: as}})
	if err != nil {
		t.Fatal(err)
	}
	h.Store(http.Handler(srv))
	return cs
}

// allow lets the server's user work on cruise's objects in ns.
func (cs *cruiseServer) allow(t *testing.T, ns string) {
	t.Helper()
	ctx := t.Context()
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "cruise-user", Namespace: ns},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"applications", "gitrepositories"},
			Verbs: []string{"get", "list", "watch", "patch", "update"}}}}
	if _, err := env.Client.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "cruise-user", Namespace: ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: cs.user}}}
	if _, err := env.Client.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// login runs cruise login through the browser flow.
func (cs *cruiseServer) login(t *testing.T) {
	t.Helper()
	b := startCruise(t, "login", cs.url, "--no-browser")
	loc := authorizeCLI(t, logInAndApprove(t, browser(), b.awaitStderr(t, loginURLLine)[1], cs.issuer, cs.user, cs.pw))
	if status, body := callback(t, loc); status != http.StatusOK {
		t.Fatalf("callback answered %d: %s", status, body)
	}
	if r := b.wait(t); r.code != 0 || r.stdout != "Logged in to "+cs.url+" as "+cs.user+"\n" {
		t.Fatalf("login: exit %d, stdout %q", r.code, r.stdout)
	}
}

// TestResourceCommandsThroughTheServer: once logged in to the real cruise
// server, get, suspend, resume and reconcile of apps go through its API
// as the logged-in user, and reach the cluster.
func TestResourceCommandsThroughTheServer(t *testing.T) {
	cs := newCruiseServer(t)
	k := newKubeTest(t)
	k.createSourceAndApp(t, "web")
	sha := "0123456789abcdef0123456789abcdef01234567"
	k.setAppStatus(t, "web", v1alpha1.ApplicationStatus{
		LastAppliedRevision: "main@sha1:" + sha,
		Conditions: []metav1.Condition{readyCondition(metav1.ConditionTrue, v1alpha1.ReasonSucceeded,
			"Applied revision main@sha1:"+sha)},
	})
	cs.allow(t, k.ns)
	cs.login(t)
	n := []string{"-n", k.ns}

	r := mustCruise(t, 0, append([]string{"get", "apps"}, n...)...)
	header := fields(strings.SplitN(r.stdout, "\n", 2)[0])
	if strings.Join(header, ",") != "NAME,READY,SYNC,HEALTH,REVISION,SUSPENDED,LAST SYNC,MESSAGE" {
		t.Errorf("header %q", header)
	}
	if row := tableRow(t, r.stdout, "web"); row[1] != "True" || row[4] != "main@sha1:0123456789ab" || row[5] != "false" {
		t.Errorf("row of web %q", row)
	}
	r = mustCruise(t, 0, append([]string{"get", "app", "web", "-o", "json"}, n...)...)
	var app apiv1.Application
	if err := json.Unmarshal([]byte(r.stdout), &app); err != nil || app.Name != "web" || app.Namespace != k.ns || app.Source.Name != "web" {
		t.Errorf("get app web -o json = %+v (%v)", app, err)
	}
	r = mustCruise(t, 0, append([]string{"get", "sources"}, n...)...)
	tableRow(t, r.stdout, "web")

	if r := mustCruise(t, 0, append([]string{"suspend", "app", "web"}, n...)...); r.stdout != "✓ Application/"+k.ns+"/web suspended\n" {
		t.Errorf("suspend: stdout %q", r.stdout)
	}
	if !k.app(t, "web").Spec.Suspend {
		t.Error("suspend through the API did not suspend the Application")
	}
	if r := mustCruise(t, 2, append([]string{"reconcile", "app", "web"}, n...)...); !strings.Contains(r.stderr, "is suspended: resume it first") {
		t.Errorf("reconcile of a suspended app: stderr %q", r.stderr)
	}
	mustCruise(t, 0, append([]string{"resume", "app", "web"}, n...)...)
	if k.app(t, "web").Spec.Suspend {
		t.Error("resume through the API did not resume the Application")
	}
	mustCruise(t, 0, append([]string{"reconcile", "app", "web"}, n...)...)
	if k.app(t, "web").Annotations[v1alpha1.ReconcileRequestAnnotation] == "" {
		t.Error("reconcile through the API set no reconcile request")
	}

	// Errors name the object and the server; RBAC applies to the user.
	r = mustCruise(t, 2, append([]string{"get", "app", "missing"}, n...)...)
	if !strings.Contains(r.stderr, cs.url) || !strings.Contains(r.stderr, k.ns+"/missing") || !strings.Contains(r.stderr, "not_found") {
		t.Errorf("get app missing: stderr %q", r.stderr)
	}
	other := newKubeTest(t)
	other.createSourceAndApp(t, "web")
	if r := mustCruise(t, 2, "suspend", "app", "web", "-n", other.ns); !strings.Contains(r.stderr, "forbidden") {
		t.Errorf("suspend without RBAC: stderr %q", r.stderr)
	}
	if other.app(t, "web").Spec.Suspend {
		t.Error("an Application the user may not patch was suspended")
	}
	// A rollback to a revision outside the history is refused by the server.
	if r := mustCruise(t, 2, append([]string{"rollback", "app", "web", "--to", "89abcdef"}, n...)...); !strings.Contains(r.stderr, "rollback "+k.ns+"/web") {
		t.Errorf("rollback to an unknown revision: stderr %q", r.stderr)
	}
}

// TestRollbackThroughTheServer: cruise rollback app has the real server
// push a revert commit to the source's branch; rolling back to where the
// files already are pushes nothing; a later undeployed commit to the same
// file is a conflict (exit 1) naming the file.
func TestRollbackThroughTheServer(t *testing.T) {
	cs := newCruiseServer(t)
	k := newKubeTest(t)
	git := serveGit(t, gittest.HTTPOptions{})
	repo, repoURL := git.repo(t, "env.git")
	dir := filepath.Join(git.root, "env.git")
	if out, err := exec.Command("git", "-C", dir, "config", "http.receivepack", "true").CombinedOutput(); err != nil {
		t.Fatalf("enable push: %v: %s", err, out)
	}
	commit := func(msg, v string) string {
		return repo.Commit(msg, map[string]string{"apps/web/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  v: \"" + v + "\"\n"})
	}
	head := func() string {
		out, err := exec.Command("git", "-C", dir, "rev-parse", "main").Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	deployed := func(revs ...string) { // newest first, as the controller records them
		var history []v1alpha1.SyncResult
		for _, r := range revs {
			history = append(history, v1alpha1.SyncResult{Revision: "main@sha1:" + r, Time: metav1.Now(), Result: "Succeeded"})
		}
		k.setAppStatus(t, "web", v1alpha1.ApplicationStatus{LastAppliedRevision: "main@sha1:" + revs[0], History: history})
	}
	c1 := commit("web v1", "1")
	c2 := commit("web v2", "2")
	k.run(t, 0, "create", "source", "git", "env", "--url", repoURL, "--branch", "main")
	k.run(t, 0, "create", "app", "web", "--source", "env", "--path", "apps/web")
	deployed(c2, c1)
	cs.allow(t, k.ns)
	cs.login(t)
	n := []string{"-n", k.ns}

	r := mustCruise(t, 0, append([]string{"rollback", "app", "web", "--to", c1[:8]}, n...)...)
	revert := head()
	if want := "Rolled back " + k.ns + "/web to " + c1[:12] + ": pushed commit " + revert[:12] + " on main (1 file)\n"; r.stdout != want {
		t.Errorf("rollback: stdout %q, want %q", r.stdout, want)
	}
	if revert == c2 {
		t.Fatal("nothing was pushed")
	}

	deployed(revert, c2, c1)
	r = mustCruise(t, 0, append([]string{"rollback", "app", "web", "--to", c1}, n...)...)
	if want := k.ns + "/web is already at " + c1[:12] + ": nothing to push\n"; r.stdout != want || head() != revert {
		t.Errorf("rollback to the current files: stdout %q, want %q", r.stdout, want)
	}

	commit("web v3", "3") // not deployed yet
	r = mustCruise(t, 1, append([]string{"rollback", "app", "web", "--to", c2[:7]}, n...)...)
	if !strings.Contains(r.stderr, "conflicts with later commits to these files:\n  apps/web/config.yaml\n") ||
		!strings.Contains(r.stderr, "409 conflict") {
		t.Errorf("conflicting rollback: stderr %q", r.stderr)
	}
}

// TestReconcileWaitThroughTheServer: reconcile --wait through the API
// polls the Application until the controller (played here by the test,
// writing status as it would) has handled the request: a stalled Ready
// False is exit 1, Ready True exit 0.
func TestReconcileWaitThroughTheServer(t *testing.T) {
	cs := newCruiseServer(t)
	k := newKubeTest(t)
	k.createSourceAndApp(t, "web")
	k.setAppStatus(t, "web", v1alpha1.ApplicationStatus{LastAppliedRevision: "main@sha1:0000000000000000000000000000000000000001",
		Conditions: []metav1.Condition{readyCondition(metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "Applied")}})
	cs.allow(t, k.ns)
	cs.login(t)

	// controller waits for a new reconcile request and answers it with
	// status.
	controller := func(previous string, status v1alpha1.ApplicationStatus) string {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			at := k.app(t, "web").Annotations[v1alpha1.ReconcileRequestAnnotation]
			if at != "" && at != previous {
				status.LastHandledReconcileAt = at
				k.setAppStatus(t, "web", status)
				return at
			}
			if time.Now().After(deadline) {
				t.Fatal("no reconcile request arrived")
			}
			time.Sleep(20 * time.Millisecond) // polling interval
		}
	}
	args := []string{"reconcile", "app", "web", "--wait", "--timeout", "30s", "-n", k.ns}

	b := startCruise(t, args...)
	at := controller("", v1alpha1.ApplicationStatus{LastAttemptedRevision: "main@sha1:0000000000000000000000000000000000000002",
		LastAppliedRevision: "main@sha1:0000000000000000000000000000000000000001",
		Conditions:          []metav1.Condition{readyCondition(metav1.ConditionFalse, v1alpha1.ReasonRenderFailed, "kustomize: bad patch")}})
	if r := b.wait(t); r.code != 1 || !strings.Contains(r.stderr, "is stalled: False, RenderFailed: kustomize: bad patch") {
		t.Errorf("stalled reconcile: exit %d, stderr %q", r.code, r.stderr)
	}

	b = startCruise(t, args...)
	controller(at, v1alpha1.ApplicationStatus{LastAttemptedRevision: "main@sha1:0000000000000000000000000000000000000003",
		LastAppliedRevision: "main@sha1:0000000000000000000000000000000000000003",
		Conditions:          []metav1.Condition{readyCondition(metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "Applied")}})
	if r := b.wait(t); r.code != 0 || !strings.HasSuffix(r.stdout, "web reconciled: revision main@sha1:000000000000\n") {
		t.Errorf("reconcile: exit %d, stdout %q", r.code, r.stdout)
	}
}
