package webhook

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"
)

// Secrets of the test receivers. Each is distinct so that a request signed
// for one receiver can be sent to another.
const (
	githubSecret  = "gh-7f3c2a9e1b5d4c60-secret"
	gitlabSecret  = "gl-0a8d6e4f2b9c1735-secret"
	giteaSecret   = "gt-5e2b9d7c3a1f8064-secret"
	forgejoSecret = "fj-9c4e1a7b5d3f2086-secret"
	genericSecret = "gn-3b8f0d6a4c2e9175-secret"
)

// Receiver names, as they appear in /hook/<name>.
const (
	githubName      = "r-github-4c1d9e"
	gitlabName      = "r-gitlab-8a2f71"
	giteaName       = "r-gitea-0e5b3c"
	forgejoName     = "r-forgejo-6d9a24"
	genericName     = "r-generic-b7e014"
	genericOpenName = "r-generic-open-2f6c8d"
)

var allSecrets = []string{githubSecret, gitlabSecret, giteaSecret, forgejoSecret, genericSecret}

// genericRepoURLs are the generic receiver's configured repositories.
var genericRepoURLs = []string{"https://git.example.net/team/config.git", "git@git.example.net:team/platform.git"}

func testReceivers() StaticReceivers {
	return NewStaticReceivers(
		Receiver{Name: githubName, Provider: ProviderGitHub, Secret: []byte(githubSecret)},
		Receiver{Name: gitlabName, Provider: ProviderGitLab, Secret: []byte(gitlabSecret)},
		Receiver{Name: giteaName, Provider: ProviderGitea, Secret: []byte(giteaSecret)},
		Receiver{Name: forgejoName, Provider: ProviderForgejo, Secret: []byte(forgejoSecret)},
		Receiver{Name: genericName, Provider: ProviderGeneric, Secret: []byte(genericSecret), RepoURLs: genericRepoURLs},
		Receiver{Name: genericOpenName, Provider: ProviderGeneric, Secret: []byte(genericSecret)},
	)
}

// recorder is the consumer side: a Trigger that remembers what it was
// told and answers repos and err. A nil repos answers one repository,
// "test/config", so that a push is accepted; an empty one matches none.
type recorder struct {
	repos []string
	err   error

	mu     sync.Mutex
	events []Event // guarded by mu
}

func (r *recorder) Trigger(_ context.Context, ev Event) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	if r.repos == nil {
		return []string{"test/config"}, r.err
	}
	return r.repos, r.err
}

func (r *recorder) got() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// newServer starts a loopback server running a handler over rs and t.
func newServer(t *testing.T, rs Receivers, tr Trigger, opts Options) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(NewHandler(rs, tr, opts))
	t.Cleanup(srv.Close)
	return srv
}

// request is one HTTP request of a test table.
type request struct {
	method string // "" means POST
	path   string
	header http.Header
	body   []byte
}

// response is what a test looks at.
type response struct {
	status int
	header http.Header
	body   string
}

func send(t *testing.T, srv *httptest.Server, req request) response {
	t.Helper()
	method := req.method
	if method == "" {
		method = http.MethodPost
	}
	r, err := http.NewRequestWithContext(t.Context(), method, srv.URL+req.path, bytes.NewReader(req.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range req.header {
		r.Header[k] = vs
	}
	if r.Header.Get("Content-Type") == "" {
		r.Header.Set("Content-Type", "application/json")
	}
	resp, err := srv.Client().Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", method, req.path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

// hdr builds a header from name/value pairs.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// hubSignature is the X-Hub-Signature-256 / X-Cruise-Signature value.
func hubSignature(secret string, body []byte) string {
	return "sha256=" + SignBody([]byte(secret), body)
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// acceptedBody is the answer to a push the recorder accepts.
const acceptedBody = `{"triggered":1,"repositories":["test/config"]}` + "\n"

// hookCase is one row of a provider's table.
type hookCase struct {
	name       string
	req        request
	wantStatus int
	want       []Event // nil: nothing may be triggered
}

// runHookCases sends each case to a fresh server and checks the status and
// exactly what was triggered.
func runHookCases(t *testing.T, cases []hookCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			srv := newServer(t, testReceivers(), rec, Options{})
			resp := send(t, srv, tc.req)
			if resp.status != tc.wantStatus {
				t.Errorf("status = %d, want %d (body %q)", resp.status, tc.wantStatus, resp.body)
			}
			if got := rec.got(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("triggered %+v\nwant      %+v", got, tc.want)
			}
			switch {
			case tc.wantStatus == http.StatusAccepted && resp.body != acceptedBody:
				t.Errorf("body = %q, want %q", resp.body, acceptedBody)
			case tc.wantStatus == http.StatusNoContent && resp.body != "":
				t.Errorf("204 with body %q", resp.body)
			}
		})
	}
}

// fixedClock is a settable clock for the failure limiter.
type fixedClock struct {
	mu  sync.Mutex
	now time.Time // guarded by mu
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fixedClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
