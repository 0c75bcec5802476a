package chartrepo_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/internal/chartrepo"
	"github.com/cruisegitops/cruise/internal/chartrepo/chartrepotest"
)

// repoKind starts a repository of one kind holding charts, and says how
// to ask it for one.
type repoKind struct {
	name string
	// start returns the request for chart (version unset) after adding
	// archives.
	start func(t *testing.T, archives ...[]byte) (func(chart string) chartrepo.Request, []string)
}

var kinds = []repoKind{
	{name: "http", start: func(t *testing.T, archives ...[]byte) (func(string) chartrepo.Request, []string) {
		r := chartrepotest.NewHTTP(t, chartrepotest.HTTPOptions{})
		var digests []string
		for _, a := range archives {
			digests = append(digests, r.Add(t, a))
		}
		return func(chart string) chartrepo.Request { return chartrepo.Request{RepoURL: r.URL(), Chart: chart} }, digests
	}},
	{name: "oci", start: func(t *testing.T, archives ...[]byte) (func(string) chartrepo.Request, []string) {
		r := chartrepotest.NewOCI(t, chartrepotest.OCIOptions{})
		var digests []string
		for _, a := range archives {
			digests = append(digests, r.Push(t, a))
		}
		return func(chart string) chartrepo.Request {
			return chartrepo.Request{RepoURL: r.URL(), Chart: chart, Auth: r.Auth()}
		}, digests
	}},
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// wantError checks err is one line of kind holding every want and none
// of never.
func wantError(t *testing.T, err error, kind error, want []string, never ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one containing %q", want)
	}
	msg := err.Error()
	t.Log(msg)
	if strings.ContainsAny(msg, "\n") {
		t.Errorf("error is not one line: %q", msg)
	}
	if kind != nil && !isKind(err, kind) {
		t.Errorf("error %q is not of kind %v", msg, kind)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
	for _, n := range never {
		if n != "" && strings.Contains(msg, n) {
			t.Errorf("error %q shows a secret", msg)
		}
	}
}

func isKind(err, kind error) bool {
	return errors.Is(err, kind)
}
