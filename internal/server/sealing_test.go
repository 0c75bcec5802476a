package server_test

import (
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cruisegitops/cruise/internal/seal"
	"github.com/cruisegitops/cruise/internal/sealkeys"
	"github.com/cruisegitops/cruise/internal/server"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// allowPublicKey lets every authenticated user read the public-key
// ConfigMap in ns, as an installation grants it.
func allowPublicKey(t *testing.T, ns string) {
	t.Helper()
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cruise-sealing-public-key-reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"},
			ResourceNames: []string{sealkeys.PublicName}, Verbs: []string{"get"}}}}
	must(t, k8s.Create(t.Context(), role))
	must(t, k8s.Create(t.Context(), &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: role.Name},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "system:authenticated"}}}))
}

// TestSealingPublicKey: a logged-in user with no other rights reads the
// cluster's public keys, as themselves: 404 before any key exists, the
// newest and all keys after, 403 where RBAC does not allow it, 401
// without a token.
func TestSealingPublicKey(t *testing.T) {
	ns, closed := env.Namespace(t), env.Namespace(t)
	allowPublicKey(t, ns)
	carol := uniqueUser("carol")
	ts := newTestServerWith(t, map[string][]string{carol: nil}, func(o *server.Options) { o.SealingKeysNamespace = ns })
	tok := ts.token(carol)

	var e apiv1.ErrorResponse
	if code := ts.call("GET", "/api/v1/sealing/publickey", tok, nil, &e); code != 404 || e.Error.Code != apiv1.CodeNotFound ||
		!strings.Contains(e.Error.Message, "no sealing key yet") {
		t.Fatalf("before any key: %d %+v, want 404 not_found", code, e.Error)
	}

	now := time.Now()
	older, err := seal.GenerateKey(now.Add(-time.Hour))
	must(t, err)
	newer, err := seal.GenerateKey(now)
	must(t, err)
	if _, _, err := (sealkeys.Store{Client: k8s, Namespace: ns}).Add(t.Context(), newer, older); err != nil {
		t.Fatal(err)
	}
	var got apiv1.SealingPublicKey
	if code := ts.call("GET", "/api/v1/sealing/publickey", tok, nil, &got); code != 200 {
		t.Fatalf("GET = %d", code)
	}
	want := []string{older.Recipient().String(), newer.Recipient().String()}
	if got.Recipient != want[1] || strings.Join(got.Recipients, ",") != strings.Join(want, ",") {
		t.Errorf("got %+v, want recipient %s and recipients %v", got, want[1], want)
	}

	// No RoleBinding in closed: the request runs as carol, not as the
	// server, and is refused.
	other := newTestServerWith(t, map[string][]string{carol: nil}, func(o *server.Options) { o.SealingKeysNamespace = closed })
	e = apiv1.ErrorResponse{}
	if code := other.call("GET", "/api/v1/sealing/publickey", other.token(carol), nil, &e); code != 403 || e.Error.Code != apiv1.CodeForbidden ||
		!strings.Contains(e.Error.Message, carol) {
		t.Errorf("without RBAC: %d %+v, want 403 naming %s", code, e.Error, carol)
	}
	e = apiv1.ErrorResponse{}
	if code := ts.call("GET", "/api/v1/sealing/publickey", "", nil, &e); code != 401 {
		t.Errorf("without a token: %d %+v, want 401", code, e.Error)
	}
}
