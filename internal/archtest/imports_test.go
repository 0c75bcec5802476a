package archtest

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/cruisegitops/cruise/"

// TestImportRules: which of cruise's own packages each package may depend
// on. Data flows source → render → apply; the push-webhook receiver asks
// for fetches through the API server only, so that any replica can answer;
// the API client and the command line's OAuth client reach the
// authorization server over HTTP only (what they share with it, the
// loopback rule, lives in oauth/loopback).
func TestImportRules(t *testing.T) {
	for _, rule := range []struct {
		pkg string
		// banned module packages (and their subpackages), except allowed.
		banned, allowed []string
		// must shows that the listing looked at the right package.
		must []string
	}{
		{pkg: "internal/pipeline",
			banned: []string{"internal/controller", "internal/server", "internal/cli", "internal/webhook", "internal/devcluster"},
			must:   []string{"internal/source", "internal/render", "internal/apply"}},
		{pkg: "internal/webhook", banned: []string{""},
			allowed: []string{"api/v1alpha1", "internal/webhook"}, must: []string{"api/v1alpha1"}},
		{pkg: "internal/apiclient", banned: []string{"oauth"},
			allowed: []string{"oauth/loopback"}, must: []string{"internal/server/apiv1"}},
		{pkg: "internal/oauthclient", banned: []string{"oauth"},
			allowed: []string{"oauth/loopback"}, must: []string{"oauth/loopback"}},
		// Manifests only: no cryptography, no cluster.
		{pkg: "internal/sealfile", banned: []string{""},
			allowed: []string{"api/v1alpha1", "internal/sealfile"}, must: []string{"api/v1alpha1"}},
	} {
		deps := listDeps(t, rule.pkg)
		for _, want := range rule.must {
			if !slices.Contains(deps, module+want) {
				t.Errorf("go list %s does not show %s; is it looking at the right package?", rule.pkg, want)
			}
		}
		for _, dep := range deps {
			own, ok := strings.CutPrefix(dep, module)
			if !ok || slices.Contains(rule.allowed, own) {
				continue
			}
			for _, b := range rule.banned {
				if b == "" || own == b || strings.HasPrefix(own, b+"/") {
					t.Errorf("%s depends on %s", rule.pkg, own)
				}
			}
		}
	}
}

// listDeps lists the packages pkg depends on, itself included.
func listDeps(t *testing.T, pkg string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "./"+pkg)
	cmd.Dir = moduleRoot(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", pkg, err, out)
	}
	return strings.Fields(string(out))
}
