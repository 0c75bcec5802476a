package server_test

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// TestDiffOfChart: the diff of an Application whose path holds a chart
// renders the chart (values changed in Git show as the object they
// change), as a user who may not read the Secret of kept generated
// values.
func TestDiffOfChart(t *testing.T) {
	g := newGitops(t)
	chart := func(v string) map[string]string {
		return map[string]string{
			"apps/web/Chart.yaml":            "apiVersion: v2\nname: web\nversion: 1.0.0\n",
			"apps/web/values.yaml":           "v: \"" + v + "\"\n",
			"apps/web/templates/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  v: {{ .Values.v | quote }}\n",
		}
	}
	g.deployed(g.repo.Commit("chart v1", chart("1")))
	c2 := g.repo.Commit("chart v2", chart("2"))

	alice := uniqueUser("alice")
	bindRole(t, g.ns, alice, "cruise-operator")
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
	if len(d.Changes) != 1 || d.Changes[0].Kind != "ConfigMap" || d.Changes[0].Name != "web" || d.Changes[0].Action != "update" {
		t.Fatalf("changes = %+v, want the chart's ConfigMap web updated", d.Changes)
	}
}
