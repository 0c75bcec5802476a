package server_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// TestDiff: the diff of an application with prune on shows what its next
// sync would do at the branch's new head: configure what changed, prune
// what left Git, nothing else; as a dry-run, so nothing changes.
func TestDiff(t *testing.T) {
	g := newGitops(t)
	manifest := func(name, v string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  v: \"" + v + "\"\n"
	}
	c1 := g.repo.Commit("web v1 and old", map[string]string{
		"apps/web/config.yaml": manifest("web", "1"),
		"apps/web/old.yaml":    manifest("old", "1"),
	})
	g.deployed(c1)
	c2 := g.repo.Commit("web v2, old gone", map[string]string{"apps/web/config.yaml": manifest("web", "2")})

	alice := uniqueUser("alice")
	bindRole(t, g.ns, alice, "cruise-operator")
	// The diff reads the source's Secret, and a dry-run needs the rights
	// of the writes it simulates, as alice.
	must(t, k8s.Create(t.Context(), &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "diff", Namespace: g.ns},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{"git-creds"}, Verbs: []string{"get"}},
			{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list", "patch", "create", "delete"}},
		}}))
	must(t, k8s.Create(t.Context(), &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "alice-diff", Namespace: g.ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "diff"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: alice}}}))
	ts := newTestServer(t, map[string][]string{alice: nil})

	var d apiv1.Diff
	if code := ts.call("GET", "/api/v1/namespaces/"+g.ns+"/applications/web/diff", ts.token(alice), nil, &d); code != 200 {
		t.Fatalf("diff = %d %+v", code, d)
	}
	if d.Revision != "main@sha1:"+c2 {
		t.Errorf("revision = %q, want main@sha1:%s", d.Revision, c2)
	}
	got := map[string]string{}
	for _, c := range d.Changes {
		got[c.Kind+"/"+c.Namespace+"/"+c.Name] = c.Action
	}
	want := map[string]string{"ConfigMap/" + g.ns + "/web": "update", "ConfigMap/" + g.ns + "/old": "prune"}
	if len(got) != len(want) || got["ConfigMap/"+g.ns+"/web"] != "update" || got["ConfigMap/"+g.ns+"/old"] != "prune" {
		t.Errorf("changes = %v, want %v", got, want)
	}
	if v := g.liveVersion(); v != "1" {
		t.Errorf("live v = %s after the diff, want 1 (a diff changes nothing)", v)
	}
	// The server keeps no checkout after a diff: the commits people diff
	// must not fill its disk (collected every 200ms here).
	clustertest.Eventually(t, 30*time.Second, func() (bool, error) {
		left, err := os.ReadDir(filepath.Join(ts.cacheDir, "checkouts"))
		if err != nil {
			t.Fatal(err)
		}
		return len(left) == 0, fmt.Errorf("%d checkout(s) left in the server's Git cache after the diff, want none", len(left))
	})
}
