package chartrepo_test

import (
	"bytes"
	"sort"
	"strings"
	"testing"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"

	"github.com/cruisegitops/cruise/internal/chartrepo"
	"github.com/cruisegitops/cruise/internal/chartrepo/chartrepotest"
)

// parent is a chart depending on deps, loaded through Helm's loader as
// the controller would load it.
func parent(t *testing.T, lock *chart.Lock, deps ...*chart.Dependency) *chart.Chart {
	ch := chartrepotest.Chart("web", "1.0.0")
	ch.Metadata.Dependencies = deps
	ch.Lock = lock
	loaded, err := loader.LoadArchive(bytes.NewReader(chartrepotest.Package(t, ch)))
	if err != nil {
		t.Fatal(err)
	}
	return loaded
}

func depVersions(ch *chart.Chart) []string {
	var out []string
	for _, d := range ch.Dependencies() {
		out = append(out, d.Name()+"@"+d.Metadata.Version)
	}
	sort.Strings(out)
	return out
}

// TestFetchDependencies: dependencies missing from charts/ come from an
// HTTP repository and an OCI registry, each with its own credentials;
// Chart.lock pins a version while it satisfies Chart.yaml; a dependency
// of a fetched subchart is fetched too.
func TestFetchDependencies(t *testing.T) {
	h := chartrepotest.NewHTTP(t, chartrepotest.HTTPOptions{Username: "u", Password: "http-pw"})
	for _, v := range []string{"17.0.0", "17.1.0", "18.0.0"} {
		h.AddChart(t, chartrepotest.Chart("redis", v))
	}
	o := chartrepotest.NewOCI(t, chartrepotest.OCIOptions{Username: "u", Password: "oci-pw"})
	for _, v := range []string{"1.0.0", "1.2.0"} {
		o.PushChart(t, chartrepotest.Chart("common", v))
	}
	// postgres, itself depending on common from the registry.
	pg := chartrepotest.Chart("postgres", "12.0.0")
	pg.Metadata.Dependencies = []*chart.Dependency{{Name: "common", Version: "1.0.0", Repository: o.URL()}}
	h.AddChart(t, pg)

	ch := parent(t,
		&chart.Lock{Dependencies: []*chart.Dependency{{Name: "redis", Version: "17.0.0", Repository: h.URL()}}},
		&chart.Dependency{Name: "redis", Version: "^17", Repository: h.URL()},
		&chart.Dependency{Name: "common", Version: "~1", Repository: o.URL(), Alias: "lib"},
		&chart.Dependency{Name: "postgres", Version: "12.0.0", Repository: h.URL() + "/"},
	)
	var asked []string
	creds := func(repoURL string) (chartrepo.Auth, error) {
		asked = append(asked, repoURL)
		switch strings.TrimSuffix(repoURL, "/") {
		case h.URL():
			return h.Auth(), nil
		case o.URL():
			return o.Auth(), nil
		}
		return chartrepo.Auth{}, nil
	}
	c := chartrepo.NewClient(chartrepo.Options{})
	if err := c.FetchDependencies(ctxT(t), ch, creds); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(depVersions(ch), " "), "common@1.2.0 postgres@12.0.0 redis@17.0.0"; got != want {
		t.Errorf("dependencies %s, want %s", got, want)
	}
	for _, d := range ch.Dependencies() {
		if d.Name() == "postgres" {
			if got := strings.Join(depVersions(d), " "); got != "common@1.0.0" {
				t.Errorf("postgres's dependencies %s, want common@1.0.0", got)
			}
		}
		if d.Parent() != ch {
			t.Errorf("%s is not attached to the parent", d.Name())
		}
	}
	if len(asked) != 4 {
		t.Errorf("credentials asked for %q, want one call per dependency fetched", asked)
	}

	// A lock out of date with Chart.yaml is not honoured.
	stale := parent(t,
		&chart.Lock{Dependencies: []*chart.Dependency{{Name: "redis", Version: "17.0.0", Repository: h.URL()}}},
		&chart.Dependency{Name: "redis", Version: "^18", Repository: h.URL()})
	if err := c.FetchDependencies(ctxT(t), stale, creds); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(depVersions(stale), " "); got != "redis@18.0.0" {
		t.Errorf("with a stale lock: %s, want redis@18.0.0", got)
	}

	// Already in charts/: nothing fetched, nothing asked.
	asked = nil
	if err := c.FetchDependencies(ctxT(t), ch, creds); err != nil || len(asked) != 0 || len(ch.Dependencies()) != 3 {
		t.Errorf("second run: err %v, credentials asked %q, %d dependencies", err, asked, len(ch.Dependencies()))
	}
}

func TestFetchDependenciesErrors(t *testing.T) {
	h := chartrepotest.NewHTTP(t, chartrepotest.HTTPOptions{Username: "u", Password: "http-pw"})
	h.AddChart(t, chartrepotest.Chart("redis", "17.0.0"))
	c := chartrepo.NewClient(chartrepo.Options{})
	for _, tc := range []struct {
		name  string
		dep   *chart.Dependency
		creds func(string) (chartrepo.Auth, error)
		kind  error
		want  []string
	}{
		{"missing version", &chart.Dependency{Name: "redis", Version: "^99", Repository: h.URL()}, func(string) (chartrepo.Auth, error) { return h.Auth(), nil },
			chartrepo.ErrNotFound, []string{"chart web: dependency redis", h.URL(), `"^99"`, "newest: 17.0.0"}},
		{"missing chart", &chart.Dependency{Name: "nope", Version: "1.0.0", Repository: h.URL()}, func(string) (chartrepo.Auth, error) { return h.Auth(), nil },
			chartrepo.ErrNotFound, []string{"chart web: dependency nope", h.URL()}},
		{"anonymous", &chart.Dependency{Name: "redis", Version: "17.0.0", Repository: h.URL()}, nil,
			chartrepo.ErrUnauthorized, []string{"chart web: dependency redis", h.URL(), "unauthorized"}},
		{"file", &chart.Dependency{Name: "local", Version: "1.0.0", Repository: "file://../local"}, nil,
			chartrepo.ErrNotFound, []string{"chart web: dependency local", "file://../local", "not in charts/"}},
		{"alias", &chart.Dependency{Name: "redis", Version: "17.0.0", Repository: "@bitnami"}, nil,
			chartrepo.ErrInvalid, []string{"chart web: dependency redis", `"@bitnami"`}},
		{"no repository", &chart.Dependency{Name: "redis", Version: "17.0.0"}, nil,
			chartrepo.ErrNotFound, []string{"chart web: dependency redis", "no repository"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.FetchDependencies(ctxT(t), parent(t, nil, tc.dep), tc.creds)
			wantError(t, err, tc.kind, tc.want, "http-pw")
		})
	}
}

// TestFetchDependenciesKeepsCharts: a dependency shipped in charts/ is
// used as is, not fetched.
func TestFetchDependenciesKeepsCharts(t *testing.T) {
	ch := chartrepotest.Chart("web", "1.0.0")
	ch.Metadata.Dependencies = []*chart.Dependency{{Name: "redis", Version: "17.0.0", Repository: "https://unreachable.invalid"}}
	ch.AddDependency(chartrepotest.Chart("redis", "17.0.0"))
	loaded, err := loader.LoadArchive(bytes.NewReader(chartrepotest.Package(t, ch)))
	if err != nil {
		t.Fatal(err)
	}
	if err := chartrepo.NewClient(chartrepo.Options{}).FetchDependencies(ctxT(t), loaded, nil); err != nil {
		t.Fatal(err)
	}
	if got := depVersions(loaded); len(got) != 1 || got[0] != "redis@17.0.0" {
		t.Errorf("dependencies %q", got)
	}
}
