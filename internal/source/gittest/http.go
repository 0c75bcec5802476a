package gittest

import (
	"crypto/subtle"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// HTTPOptions configure ServeHTTP. The zero value serves anonymously.
type HTTPOptions struct {
	// Username and Password, when set, are required as basic auth.
	Username, Password string
	// BearerToken, when set, is accepted as "Authorization: Bearer".
	BearerToken string
}

// Counts are the requests an HTTPServer received, authorized or not.
type Counts struct {
	// InfoRefs counts GET .../info/refs: ref advertisements (ls-remote).
	InfoRefs int
	// UploadPack counts POST .../git-upload-pack: object transfers.
	UploadPack int
	// Other counts anything else.
	Other int
}

// HTTPServer serves the repositories under a root directory over smart
// HTTP with `git http-backend`.
type HTTPServer struct {
	// URL is the server's base URL, "http://127.0.0.1:<port>".
	URL string

	opts HTTPOptions

	mu     sync.Mutex
	counts Counts // guarded by mu
}

// ServeHTTP serves root (a directory of repositories: <root>/<name>) on
// 127.0.0.1 until the test ends.
func ServeHTTP(t testing.TB, root string, opts HTTPOptions) *HTTPServer {
	t.Helper()
	gitBin, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("gittest: git binary needed to serve HTTP: %v", err)
	}
	s := &HTTPServer{opts: opts}
	backend := &cgi.Handler{
		Path: gitBin,
		Args: []string{"http-backend"},
		Env: []string{
			"GIT_PROJECT_ROOT=" + root,
			"GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1",
			"HOME=" + root,
		},
		Stderr: logWriter{t},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.count(r)
		if !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="gittest"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// RepoURL is the URL of repository name.
func (s *HTTPServer) RepoURL(name string) string { return s.URL + "/" + name }

// Counts returns the requests received since the start or the last
// ResetCounts.
func (s *HTTPServer) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

// ResetCounts zeroes the counters.
func (s *HTTPServer) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = Counts{}
}

func (s *HTTPServer) count(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/info/refs"):
		s.counts.InfoRefs++
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-upload-pack"):
		s.counts.UploadPack++
	default:
		s.counts.Other++
	}
}

func (s *HTTPServer) authorized(r *http.Request) bool {
	if s.opts.Username == "" && s.opts.Password == "" && s.opts.BearerToken == "" {
		return true
	}
	if s.opts.BearerToken != "" {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok &&
			subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.BearerToken)) == 1 {
			return true
		}
	}
	if s.opts.Username != "" || s.opts.Password != "" {
		u, p, ok := r.BasicAuth()
		return ok && subtle.ConstantTimeCompare([]byte(u), []byte(s.opts.Username)) == 1 &&
			subtle.ConstantTimeCompare([]byte(p), []byte(s.opts.Password)) == 1
	}
	return false
}

// logWriter sends a CGI's stderr to the test log instead of the terminal.
type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Logf("git http-backend: %s", strings.TrimSpace(string(p)))
	return len(p), nil
}
