package webhook

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports: of cruise's own packages the webhook package uses only the
// API types. Asking for a fetch goes through the API server, never
// through the controller, which must be free to run on another replica.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const module = "github.com/cruisegitops/cruise/"
	allowed := map[string]bool{module + "api/v1alpha1": true, module + "internal/webhook": true}
	var own int
	for _, dep := range strings.Fields(string(out)) {
		if !strings.HasPrefix(dep, module) {
			continue
		}
		own++
		if !allowed[dep] {
			t.Errorf("internal/webhook depends on %s", dep)
		}
	}
	if own != len(allowed) {
		t.Errorf("go list found %d of cruise's packages, want %d; is the test looking at the right package?", own, len(allowed))
	}
}
