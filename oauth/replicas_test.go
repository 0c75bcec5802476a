package oauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/oauth"
	"github.com/cruisegitops/cruise/oauth/store"
)

// TestReplicasRedeemOnce: two servers sharing one database (replicas
// behind a load balancer) race to redeem one code and to rotate one
// refresh token; exactly one wins each race, and the loser's valid replay
// revokes the grant.
func TestReplicasRedeemOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		second, err := oauth.New(context.Background(), oauth.Options{Issuer: e.issuer, Store: e.store, Now: e.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		replica := httptest.NewServer(second)
		defer replica.Close()
		servers := []string{e.url(oauth.PathToken), replica.URL + oauth.PathToken}

		race := func(form url.Values) []int {
			var wg sync.WaitGroup
			statuses := make([]int, 8)
			for i := range statuses {
				wg.Go(func() {
					resp, err := http.Post(servers[i%2], "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					statuses[i] = resp.StatusCode
				})
			}
			wg.Wait()
			return statuses
		}
		ok := func(statuses []int) int {
			n := 0
			for _, s := range statuses {
				if s == http.StatusOK {
					n++
				}
			}
			return n
		}

		code, verifier := e.codeFor(e.public, loopbackRedirect, "openid")
		form := url.Values{"grant_type": {"authorization_code"}, "client_id": {e.public.ID}, "code": {code}, "code_verifier": {verifier}, "redirect_uri": {loopbackRedirect}}
		if n := ok(race(form)); n != 1 {
			t.Fatalf("%d replicas redeemed the code, want exactly 1", n)
		}
		c, err := e.store.GetCode(context.Background(), store.HashToken(code))
		if err != nil {
			t.Fatal(err)
		}
		if f, err := e.store.GetFamily(context.Background(), c.FamilyID); err != nil || !f.Revoked() {
			t.Fatalf("family after the replay race: %+v, %v; want revoked", f, err)
		}

		code, verifier = e.codeFor(e.public, loopbackRedirect, "openid")
		rt := e.redeem(e.public, code, verifier, loopbackRedirect).str("refresh_token")
		if n := ok(race(url.Values{"grant_type": {"refresh_token"}, "client_id": {e.public.ID}, "refresh_token": {rt}})); n != 1 {
			t.Fatalf("%d replicas rotated the refresh token, want exactly 1", n)
		}
	})
}

// TestMountedUnderPath: inside `cruise server` the handler lives under the
// issuer's path, mounted without stripping the prefix.
func TestMountedUnderPath(t *testing.T) {
	st := openStore(t, "sqlite")
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String() + "/auth"
	srv, err := oauth.New(context.Background(), oauth.Options{Issuer: issuer, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/", srv)
	mux.Handle(srv.MetadataPath(), srv.MetadataHandler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	ts.Config.Handler = mux
	ts.Start()
	defer ts.Close()
	c, secret, _ := oauth.NewClient(oauth.ClientSpec{Name: "ci"}, time.Now())
	st.CreateClient(context.Background(), c)

	// Both the issuer-relative and the RFC 8414 section 3.1 locations.
	for _, u := range []string{issuer + oauth.PathOAuthMetadata, "http://" + ts.Listener.Addr().String() + oauth.PathOAuthMetadata + "/auth"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"token_endpoint":"`+issuer+`/token"`) {
			t.Fatalf("metadata at %s: %d %s", u, resp.StatusCode, body)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, issuer+oauth.PathToken, strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.ID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode != http.StatusOK || parseAccessToken(t, mustField(t, body, "access_token"))["iss"] != issuer {
		t.Fatalf("token under path: %d %s", resp.StatusCode, body)
	}
}

func mustField(t testing.TB, body, field string) string {
	t.Helper()
	i := strings.Index(body, `"`+field+`":"`)
	if i < 0 {
		t.Fatalf("no %s in %s", field, body)
	}
	rest := body[i+len(field)+4:]
	return rest[:strings.IndexByte(rest, '"')]
}

// TestMaintainDeletesExpiredRows: the maintenance loop removes expired
// rows while the server runs.
func TestMaintainDeletesExpiredRows(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if err := e.store.PutPending(ctx, "stale", []byte("x"), time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		go e.srv.Maintain(ctx, 10*time.Millisecond)
		deadline := time.Now().Add(10 * time.Second)
		for {
			// Reading "as of" two hours ago sees the row while it exists.
			_, err := e.store.GetPending(ctx, "stale", time.Now().Add(-2*time.Hour))
			if errors.Is(err, store.ErrNotFound) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			if time.Now().After(deadline) {
				t.Fatal("expired rows still there after 10s")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
