package hookrun_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/internal/helm"
	"github.com/cruisegitops/cruise/internal/helm/helmtest"
	"github.com/cruisegitops/cruise/internal/helm/hookrun"
)

// TestRealChartHooks: the hooks of a real chart, ingress-nginx 4.15.1
// (RBAC objects and the admission webhook's certificate Jobs, with
// weights and before-hook-creation,hook-succeeded), rendered by cruise
// and run on the full profile: every pre-install hook, then every
// post-install hook, succeeds, the Jobs by completing, and the
// hook-succeeded ones are gone afterwards.
func TestRealChartHooks(t *testing.T) {
	ns := namespace(t)
	dir := helmtest.Chart(t, "ingress-nginx")
	ch, _, err := helm.LoadDir(filepath.Dir(dir), filepath.Base(dir), helm.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	rel, err := helm.Render(t.Context(), ch, helm.Options{ReleaseName: "nginx", Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	r := &hookrun.Runner{Client: k8s, Namespace: ns, Release: "nginx", Timeout: 2 * time.Minute}
	jobs := 0
	for _, event := range []string{helm.PreInstall, helm.PostInstall} {
		results, err := r.Run(t.Context(), event, rel.Hooks)
		if err != nil {
			t.Fatalf("%s hooks: %v", event, err)
		}
		if len(results) == 0 {
			t.Fatalf("no %s hooks ran", event)
		}
		for _, res := range results {
			if !res.Succeeded {
				t.Errorf("%s hook %s did not succeed: %s", event, res.Ref, res.Message)
			}
			if res.Ref.Kind == "Job" {
				jobs++
				if !res.Deleted {
					t.Errorf("%s hook %s not deleted after success (hook-succeeded)", event, res.Ref)
				}
			}
		}
	}
	if jobs != 2 {
		t.Errorf("%d hook Jobs ran, want the chart's 2 (certificate create and patch)", jobs)
	}
}
