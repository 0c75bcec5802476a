//go:build unix

package render

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
)

// TestRenderRefusesSpecialFiles checks that a FIFO named like a manifest
// fails instead of blocking the render forever on open.
func TestRenderRefusesSpecialFiles(t *testing.T) {
	for _, tt := range []struct {
		name  string
		files map[string]string
		path  string
	}{
		{"plain", map[string]string{"apps/ok.yaml": configMap("ok")}, "apps"},
		{"kustomize", map[string]string{"apps/kustomization.yaml": "resources: [pipe.yaml]\n"}, "apps"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, root, tt.files)
			if err := syscall.Mkfifo(filepath.Join(root, "apps", "pipe.yaml"), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Render(context.Background(), Options{Root: root, Path: tt.path})
			checkErr(t, err, nil, "render: apps/pipe.yaml: not a regular file (named pipe)")
		})
	}
}
