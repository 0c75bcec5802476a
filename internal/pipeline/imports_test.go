package pipeline

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports: data flows source → render → apply. The pipeline is used by
// the controller, the server and the CLI, so it must import none of them.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	const internal = "github.com/cruisegitops/cruise/internal/"
	found := map[string]bool{}
	for _, dep := range deps {
		found[dep] = true
		for _, banned := range []string{"controller", "server", "cli", "webhook", "devcluster"} {
			if dep == internal+banned || strings.HasPrefix(dep, internal+banned+"/") {
				t.Errorf("pipeline depends on %s", dep)
			}
		}
	}
	// A broken listing must not pass for a clean one.
	for _, want := range []string{"source", "render", "apply"} {
		if !found[internal+want] {
			t.Errorf("go list does not show the dependency on %s%s; is it looking at this package?", internal, want)
		}
	}
}
