package server_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/seal"
	"github.com/cruisegitops/cruise/internal/seal/sealtest"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// TestDiffOfSOPSApplication: the API's diff of an Application that
// decrypts SOPS files reads the keys as the user and shows where a
// decrypted value changed, never the value; a user who may not read the
// decryption Secret gets Kubernetes' 403.
func TestDiffOfSOPSApplication(t *testing.T) {
	g := newGitops(t)
	key, err := seal.GenerateKey(time.Now())
	must(t, err)
	must(t, k8s.Create(t.Context(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sops-age", Namespace: g.ns},
		Data: map[string][]byte{"identity.agekey": seal.MarshalKey(key)}}))
	app := &v1alpha1.Application{}
	must(t, k8s.Get(t.Context(), objKey(g.ns, "web"), app))
	patch := client.MergeFrom(app.DeepCopy())
	app.Spec.Decryption = &v1alpha1.Decryption{Provider: v1alpha1.DecryptionProviderSOPS, SecretRef: &v1alpha1.LocalObjectReference{Name: "sops-age"}}
	must(t, k8s.Patch(t.Context(), app, patch))

	hidden := func(v string) string {
		plain := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hidden\ndata:\n  token: " + v + "\n"
		return string(sealtest.Encrypt(t, []byte(plain), ".yaml", []string{key.Recipient().String()}))
	}
	config := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  v: \"1\"\n"
	c1 := g.repo.Commit("hidden v1", map[string]string{"apps/web/config.yaml": config, "apps/web/hidden.yaml": hidden("s3cret-api-one")})
	g.deployed(c1)
	g.repo.Commit("hidden v2", map[string]string{"apps/web/config.yaml": config, "apps/web/hidden.yaml": hidden("s3cret-api-two")})

	rights := func(user string, secrets ...string) {
		t.Helper()
		bindRole(t, g.ns, user, "cruise-operator")
		role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "diff-" + user, Namespace: g.ns},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: secrets, Verbs: []string{"get"}},
				{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list", "patch", "create", "delete"}},
			}}
		must(t, k8s.Create(t.Context(), role))
		must(t, k8s.Create(t.Context(), &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "diff-" + user, Namespace: g.ns},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}))
	}
	alice, bob := uniqueUser("alice"), uniqueUser("bob")
	rights(alice, "git-creds", "sops-age")
	rights(bob, "git-creds")
	ts := newTestServer(t, map[string][]string{alice: nil, bob: nil})

	var raw json.RawMessage
	if code := ts.call("GET", "/api/v1/namespaces/"+g.ns+"/applications/web/diff", ts.token(alice), nil, &raw); code != 200 {
		t.Fatalf("diff = %d %s", code, raw)
	}
	for _, leak := range []string{"s3cret-api-one", "s3cret-api-two"} {
		if strings.Contains(string(raw), leak) {
			t.Errorf("the diff shows %q: %s", leak, raw)
		}
	}
	var d apiv1.Diff
	must(t, json.Unmarshal(raw, &d))
	if len(d.Changes) != 1 || d.Changes[0].Name != "hidden" || !strings.Contains(d.Changes[0].Patch, "+  token: '*** (after)'") {
		t.Errorf("changes = %+v, want hidden with its token masked", d.Changes)
	}

	var e apiv1.ErrorResponse
	if code := ts.call("GET", "/api/v1/namespaces/"+g.ns+"/applications/web/diff", ts.token(bob), nil, &e); code != 403 || !strings.Contains(e.Error.Message, "sops-age") {
		t.Errorf("diff without the right to read the keys = %d %+v, want 403 naming the Secret", code, e)
	}
}
