package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
	"github.com/cruisegitops/cruise/oauth"
	"github.com/cruisegitops/cruise/oauth/store"
)

// createApp creates an Application (not reconciled: its source does not
// exist) for API tests that only read and patch it.
func createApp(t *testing.T, ns, name string) {
	t.Helper()
	app := &v1alpha1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.ApplicationSpec{SourceRef: v1alpha1.SourceReference{Name: "nowhere"}, Path: "apps/" + name,
			Interval: metav1.Duration{Duration: time.Hour}}}
	if err := k8s.Create(t.Context(), app); err != nil {
		t.Fatal(err)
	}
}

// TestTenantIsolation: alice's RBAC covers only namespace A. She sees and
// acts on A's applications only, gets 403 on B's, and B's names appear in
// no answer she gets.
func TestTenantIsolation(t *testing.T) {
	nsA, nsB := env.Namespace(t), env.Namespace(t)
	createApp(t, nsA, "shop")
	createApp(t, nsA, "blog")
	createApp(t, nsB, "secret-project")
	aliceName, bobName := uniqueUser("alice"), uniqueUser("bob")
	bindRole(t, nsA, aliceName, "cruise-operator")
	bindRole(t, nsB, bobName, "cruise-operator")
	ts := newTestServer(t, map[string][]string{aliceName: {"team-a"}, bobName: nil})
	alice := ts.token(aliceName)

	var who apiv1.Whoami
	if code := ts.call("GET", "/api/v1/whoami", alice, nil, &who); code != 200 || who.User != aliceName || len(who.Groups) != 1 || who.Groups[0] != "team-a" {
		t.Fatalf("whoami = %d %+v, want alice in team-a", code, who)
	}

	var list apiv1.ApplicationList
	clustertestEventually(t, func() (bool, string) {
		list = apiv1.ApplicationList{}
		code := ts.call("GET", "/api/v1/applications", alice, nil, &list)
		return code == 200 && list.Total == 2, strings.Join(names(list.Items), ",")
	})
	for _, a := range list.Items {
		if a.Namespace != nsA {
			t.Errorf("alice sees %s/%s", a.Namespace, a.Name)
		}
	}

	tests := []struct {
		name, method, path string
		body               any
		want               int
		wantCode           string
	}{
		{"get own", "GET", "/api/v1/namespaces/" + nsA + "/applications/shop", nil, 200, ""},
		{"history own", "GET", "/api/v1/namespaces/" + nsA + "/applications/shop/history", nil, 200, ""},
		{"resources own", "GET", "/api/v1/namespaces/" + nsA + "/applications/shop/resources", nil, 200, ""},
		{"events own", "GET", "/api/v1/namespaces/" + nsA + "/applications/shop/events", nil, 200, ""},
		{"sync own", "POST", "/api/v1/namespaces/" + nsA + "/applications/shop/sync", nil, 200, ""},
		{"suspend own", "POST", "/api/v1/namespaces/" + nsA + "/applications/blog/suspend", nil, 200, ""},
		{"get other tenant", "GET", "/api/v1/namespaces/" + nsB + "/applications/secret-project", nil, 403, apiv1.CodeForbidden},
		{"sync other tenant", "POST", "/api/v1/namespaces/" + nsB + "/applications/secret-project/sync", nil, 403, apiv1.CodeForbidden},
		{"suspend other tenant", "POST", "/api/v1/namespaces/" + nsB + "/applications/secret-project/suspend", nil, 403, apiv1.CodeForbidden},
		{"rollback other tenant", "POST", "/api/v1/namespaces/" + nsB + "/applications/secret-project/rollback", apiv1.RollbackRequest{Revision: "abcdef1"}, 403, apiv1.CodeForbidden},
		{"list other namespace", "GET", "/api/v1/applications?namespace=" + nsB, nil, 403, apiv1.CodeForbidden},
		{"watch other namespace", "GET", "/api/v1/watch/applications?namespace=" + nsB, nil, 403, apiv1.CodeForbidden},
		{"missing", "GET", "/api/v1/namespaces/" + nsA + "/applications/nope", nil, 404, apiv1.CodeNotFound},
		{"bad limit", "GET", "/api/v1/applications?limit=-1", nil, 400, apiv1.CodeBadRequest},
		{"bad revision", "POST", "/api/v1/namespaces/" + nsA + "/applications/shop/rollback", apiv1.RollbackRequest{Revision: "HEAD~1"}, 400, apiv1.CodeBadRequest},
		{"unknown route", "GET", "/api/v1/nothing", nil, 404, apiv1.CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e apiv1.ErrorResponse
			code := ts.call(tt.method, tt.path, alice, tt.body, &e)
			if code != tt.want || e.Error.Code != tt.wantCode {
				t.Fatalf("%s %s = %d %+v, want %d %q", tt.method, tt.path, code, e.Error, tt.want, tt.wantCode)
			}
		})
	}

	app := &v1alpha1.Application{}
	if err := k8s.Get(t.Context(), objKey(nsA, "blog"), app); err != nil || !app.Spec.Suspend {
		t.Errorf("blog suspended = %v (%v), want true", app.Spec.Suspend, err)
	}
	if err := k8s.Get(t.Context(), objKey(nsB, "secret-project"), app); err != nil || app.Spec.Suspend || app.Annotations[v1alpha1.ReconcileRequestAnnotation] != "" {
		t.Errorf("B's application changed: suspend %v, annotations %v (%v)", app.Spec.Suspend, app.Annotations, err)
	}

	// Sources: the same filtering.
	for ns, name := range map[string]string{nsA: "src-a", nsB: "src-b"} {
		must(t, k8s.Create(t.Context(), &v1alpha1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: v1alpha1.GitRepositorySpec{URL: "https://git.invalid/repo.git", Interval: metav1.Duration{Duration: time.Hour}, Suspend: true}}))
	}
	var sources apiv1.SourceList
	if code := ts.call("GET", "/api/v1/sources", alice, nil, &sources); code != 200 || len(sources.Items) != 1 || sources.Items[0].Name != "src-a" {
		t.Errorf("alice's sources = %d %+v, want only src-a", code, sources.Items)
	}

	// bob sees only B's application; the server itself may list nothing.
	var bobList apiv1.ApplicationList
	if code := ts.call("GET", "/api/v1/applications", ts.token(bobName), nil, &bobList); code != 200 || bobList.Total != 1 || bobList.Items[0].Name != "secret-project" {
		t.Errorf("bob's list = %d %v, want only secret-project", code, names(bobList.Items))
	}
}

func names(apps []apiv1.Application) []string {
	var out []string
	for _, a := range apps {
		out = append(out, a.Namespace+"/"+a.Name)
	}
	return out
}

// TestTokensRefused: no token, a token in the query string, a token for
// another audience, a garbled token and a user the RBAC knows nothing of.
func TestTokensRefused(t *testing.T) {
	ns := env.Namespace(t)
	createApp(t, ns, "web")
	aliceName, malloryName := uniqueUser("alice"), uniqueUser("mallory")
	bindRole(t, ns, aliceName, "cruise-operator")
	ts := newTestServer(t, map[string][]string{aliceName: nil, malloryName: nil})
	other := newTestServer(t, map[string][]string{aliceName: nil})
	alice := ts.token(aliceName)

	tests := []struct {
		name, path, header string
		want               int
		wantCode           string
	}{
		{"no token", "/api/v1/applications", "", 401, apiv1.CodeUnauthenticated},
		{"token in query", "/api/v1/applications?access_token=" + alice, "", 400, apiv1.CodeTokenInQuery},
		{"token in query besides header", "/api/v1/applications?access_token=x", "Bearer " + alice, 400, apiv1.CodeTokenInQuery},
		{"another server's token", "/api/v1/applications", "Bearer " + other.token(aliceName), 401, apiv1.CodeUnauthenticated},
		{"garbled token", "/api/v1/applications", "Bearer " + alice[:len(alice)-4] + "AAAA", 401, apiv1.CodeUnauthenticated},
		{"basic auth", "/api/v1/applications", "Basic YWxpY2U6cHc=", 401, apiv1.CodeUnauthenticated},
		{"valid", "/api/v1/namespaces/" + ns + "/applications/web", "Bearer " + alice, 200, ""},
		{"user without RBAC", "/api/v1/namespaces/" + ns + "/applications/web", "Bearer " + ts.token(malloryName), 403, apiv1.CodeForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", ts.URL+tt.path, nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e apiv1.ErrorResponse
			decode(t, resp, &e)
			if resp.StatusCode != tt.want || e.Error.Code != tt.wantCode {
				t.Fatalf("status %d %+v, want %d %q", resp.StatusCode, e.Error, tt.want, tt.wantCode)
			}
		})
	}
	// A client-credentials token names a client, not a person: refused,
	// never served as the server or as the client.
	cc, secret, err := oauth.NewClient(oauth.ClientSpec{Name: "ci", GrantTypes: []string{store.GrantClientCredentials}}, time.Now())
	must(t, err)
	must(t, ts.st.CreateClient(t.Context(), cc))
	ccCfg := clientcredentials.Config{ClientID: cc.ID, ClientSecret: secret, TokenURL: ts.URL + "/auth" + oauth.PathToken, Scopes: []string{"cruise:read"}}
	ccTok, err := ccCfg.Token(t.Context())
	must(t, err)
	var ce apiv1.ErrorResponse
	if code := ts.call("GET", "/api/v1/applications", ccTok.AccessToken, nil, &ce); code != 401 || ce.Error.Code != apiv1.CodeUnauthenticated {
		t.Errorf("client-credentials token = %d %+v, want 401", code, ce.Error)
	}

	// A token granted only cruise:read reads but cannot act, whatever RBAC
	// would allow.
	readOnly := ts.tokenScopes(aliceName, "openid", "cruise:read")
	if code := ts.call("GET", "/api/v1/namespaces/"+ns+"/applications/web", readOnly, nil, nil); code != 200 {
		t.Errorf("read with a cruise:read token = %d, want 200", code)
	}
	var se apiv1.ErrorResponse
	if code := ts.call("POST", "/api/v1/namespaces/"+ns+"/applications/web/sync", readOnly, nil, &se); code != 403 || se.Error.Code != apiv1.CodeScope {
		t.Errorf("sync with a cruise:read token = %d %+v, want 403 insufficient_scope", code, se.Error)
	}

	// mallory's empty list: she may read nothing, and is told of nothing.
	var list apiv1.ApplicationList
	if code := ts.call("GET", "/api/v1/applications", ts.token(malloryName), nil, &list); code != 200 || list.Total != 0 {
		t.Errorf("mallory's list = %d %v, want empty", code, names(list.Items))
	}
}

// TestOpenAPI: the document lists every route with its schema.
func TestOpenAPI(t *testing.T) {
	ts := newTestServer(t, nil)
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if code := ts.call("GET", "/api/v1/openapi.json", "", nil, &doc); code != 200 || doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi = %d %q", code, doc.OpenAPI)
	}
	for _, p := range []string{"/api/v1/applications", "/api/v1/namespaces/{ns}/applications/{name}/rollback", "/api/v1/watch/applications", "/api/v1/sealing/publickey",
		"/api/v1/namespaces/{ns}/applications/{name}/images"} {
		if doc.Paths[p] == nil {
			t.Errorf("no path %s in %v", p, doc.Paths)
		}
	}
	if code := ts.call("GET", "/healthz", "", nil, nil); code != 200 {
		t.Errorf("healthz = %d", code)
	}
	var ac apiv1.AuthConfig
	if code := ts.call("GET", "/api/v1/authconfig", "", nil, &ac); code != 200 || ac.Issuer != ts.URL+"/auth" || ac.ClientID != "cruise-cli" {
		t.Errorf("authconfig = %d %+v", code, ac)
	}
}
