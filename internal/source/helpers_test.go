package source

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cruisegitops/cruise/internal/source/gittest"
)

// history is the standard repository of the tests: one commit per
// testdata/app-v* scenario, see testdata/README.md.
type history struct {
	c1, c2, c3, c4 string
	tagV120        string // the annotated tag object of v1.2.0
}

// newHistory builds the standard repository in dir.
func newHistory(t *testing.T, dir string, bare bool) history {
	t.Helper()
	r := gittest.NewRepo(t, dir, bare)
	var h history
	h.c1 = r.CommitDir("release v1", "testdata/app-v1")
	r.Tag("v1.0.0", h.c1)
	h.c2 = r.CommitDir("release v2\n\nadds extra.yaml", "testdata/app-v2")
	r.Tag("1.1.0", h.c2)
	r.Branch("dev", h.c2)
	h.c3 = r.CommitDir("release v3", "testdata/app-v3")
	h.tagV120 = r.AnnotatedTag("v1.2.0", h.c3, "v1.2.0")
	h.c4 = r.CommitDir("release v4", "testdata/app-v4")
	r.Tag("v2.0.0", h.c4)
	r.Tag("v1.3.0-rc.1", h.c4)
	r.Tag("latest", h.c4)
	return h
}

// newFetcher returns a Fetcher with its own cache directory.
func newFetcher(t *testing.T, opts Options) *Fetcher {
	t.Helper()
	if opts.CacheDir == "" {
		opts.CacheDir = t.TempDir()
	}
	f, err := NewFetcher(opts)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func mustFetch(t *testing.T, f *Fetcher, req Request) *Artifact {
	t.Helper()
	a, err := f.Fetch(context.Background(), req)
	if err != nil {
		t.Fatalf("Fetch(%s, %s): %v", req.URL, req.Ref, err)
	}
	return a
}

// readFile reads a file of a checkout.
func readFile(t *testing.T, dir, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantErr checks that err wraps want and, when msg is not empty, that its
// text contains msg.
func wantErr(t *testing.T, err, want error, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", want)
	}
	t.Logf("error: %v", err)
	if !errors.Is(err, want) {
		t.Fatalf("error %q does not wrap %v", err, want)
	}
	if msg != "" && !strings.Contains(err.Error(), msg) {
		t.Fatalf("error %q does not contain %q", err, msg)
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// checkoutEntries lists what is in the checkouts directory, to prove a
// failed checkout left nothing behind.
func checkoutEntries(t *testing.T, f *Fetcher) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(f.Options().CacheDir, "checkouts"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
