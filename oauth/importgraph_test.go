package oauth_test

import (
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportGraph: the oauth tree stands alone; it imports nothing from
// cruise's internal packages or Kubernetes, directly or transitively.
func TestImportGraph(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 20 {
		t.Fatalf("go list found only %d dependencies; is the test looking at the right tree?", len(deps))
	}
	for _, dep := range deps {
		if strings.HasPrefix(dep, "github.com/cruisegitops/cruise/internal/") || strings.HasPrefix(dep, "k8s.io/") ||
			strings.HasPrefix(dep, "sigs.k8s.io/") {
			t.Errorf("oauth depends on %s", dep)
		}
	}
}

// TestEveryPackageHasDoc: each package under oauth/ has a doc.go with a
// package comment.
func TestEveryPackageHasDoc(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	dirs := strings.Fields(string(out))
	if len(dirs) < 8 {
		t.Fatalf("only %d packages found", len(dirs))
	}
	for _, dir := range dirs {
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, "doc.go"), nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		if f.Doc == nil || !strings.HasPrefix(f.Doc.Text(), "Package "+f.Name.Name+" ") {
			t.Errorf("%s/doc.go has no package comment starting %q", dir, "Package "+f.Name.Name)
		}
	}
}
