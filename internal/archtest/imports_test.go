package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestClientsDoNotImportTheAuthorizationServer: the API client and the
// command line's OAuth client reach the authorization server over HTTP
// only; neither links its code (nor its database drivers). What they
// share with it, the loopback rule, lives in oauth/loopback, which imports
// nothing of the server.
func TestClientsDoNotImportTheAuthorizationServer(t *testing.T) {
	const module = "github.com/cruisegitops/cruise/"
	allowed := map[string]bool{module + "oauth/loopback": true}
	for _, pkg := range []string{"internal/apiclient", "internal/oauthclient"} {
		cmd := exec.Command("go", "list", "-deps", "./"+pkg)
		cmd.Dir = moduleRoot(t)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 10 {
			t.Fatalf("go list %s found only %d dependencies; is the test looking at the right tree?", pkg, len(deps))
		}
		for _, dep := range deps {
			if (dep == module+"oauth" || strings.HasPrefix(dep, module+"oauth/")) && !allowed[dep] {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}
