package render

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeTree creates files under dir. A value starting with "-> " makes a
// symlink to the rest of it; "{tmp}" in values is replaced by tmp. Symlinks
// are made at run time rather than kept in testdata, where Git and
// checkouts on other systems handle them unreliably.
func writeTree(t *testing.T, dir, tmp string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		content = strings.ReplaceAll(content, "{tmp}", tmp)
		if target, ok := strings.CutPrefix(content, "-> "); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func configMap(name string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n"
}

// TestRenderConfinement covers the ways a repository may try to make render
// read outside its root, and the symlinks that stay inside and must keep
// working. Each case gets a fresh temp dir holding repo/ (the root) and,
// beside it, outside.yaml and outside-dir/ that must never be read.
func TestRenderConfinement(t *testing.T) {
	outside := map[string]string{
		"outside.yaml":                      configMap("outside"),
		"outside-dir/secret.yaml":           configMap("secret"),
		"outside-base/kustomization.yaml":   "resources: [cm.yaml]\n",
		"outside-base/cm.yaml":              configMap("outside-base"),
		"repo/shared/linked-file.yaml":      configMap("linked-file"),
		"repo/shared/dir/linked-dir.yaml":   configMap("linked-dir"),
		"repo/base/kustomization.yaml":      "resources: [cm.yaml]\n",
		"repo/base/cm.yaml":                 configMap("base"),
		"repo/patches/label.yaml":           "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: base\n  labels:\n    patched: \"yes\"\n",
		"repo/unrelated/kustomization.yaml": "resources: []\n",
	}
	tests := []struct {
		name      string
		files     map[string]string // under repo/
		path      string
		wantKind  error
		wantErr   string
		wantNames []string // object names on success
		wantFiles []string // subset of Result.Files on success
	}{
		// Plain mode.
		{
			name:     "plain file symlink to /etc/passwd",
			files:    map[string]string{"apps/passwd.yaml": "-> /etc/passwd"},
			path:     "apps",
			wantKind: ErrPathEscape,
			wantErr:  "render: apps/passwd.yaml: symlink resolves to /etc/passwd, outside the repository root",
		},
		{
			name:     "plain dir symlink outside root",
			files:    map[string]string{"apps/ext": "-> {tmp}/outside-dir", "apps/ok.yaml": configMap("ok")},
			path:     "apps",
			wantKind: ErrPathEscape,
			wantErr:  "render: apps/ext: symlink resolves to ",
		},
		{
			name:     "plain relative symlink climbing out",
			files:    map[string]string{"apps/up.yaml": "-> ../../outside.yaml"},
			wantKind: ErrPathEscape,
			wantErr:  "render: apps/up.yaml: symlink resolves to ",
		},
		{
			name:     "Path is a symlink outside root",
			files:    map[string]string{"escape": "-> {tmp}/outside-dir"},
			path:     "escape",
			wantKind: ErrPathEscape,
			wantErr:  "render: escape: symlink resolves to ",
		},
		{
			name: "plain symlinks inside root work",
			files: map[string]string{
				"apps/file.yaml": "-> ../shared/linked-file.yaml",
				"apps/dir":       "-> ../shared/dir",
			},
			path:      "apps",
			wantNames: []string{"linked-dir", "linked-file"},
			wantFiles: []string{"apps/dir", "apps/dir/linked-dir.yaml", "apps/file.yaml", "shared/dir/linked-dir.yaml", "shared/linked-file.yaml"},
		},
		{
			name: "plain escaping symlink excluded by .cruiseignore",
			files: map[string]string{
				"apps/.cruiseignore": "passwd.yaml\n",
				"apps/passwd.yaml":   "-> /etc/passwd",
				"apps/ok.yaml":       configMap("ok"),
			},
			path:      "apps",
			wantNames: []string{"ok"},
		},
		{
			name:     "plain symlink loop",
			files:    map[string]string{"apps/ok.yaml": configMap("ok"), "apps/again": "-> ."},
			path:     "apps",
			wantErr:  "render: apps/again: symlink loop",
			wantKind: nil,
		},
		{
			name: "plain dangling symlinks",
			files: map[string]string{
				"apps/ok.yaml":   configMap("ok"),
				"apps/gone.txt":  "-> nowhere",
				"apps/gone-dir":  "-> nowhere",
				"apps/gone.yaml": "-> nowhere.yaml",
			},
			path:    "apps",
			wantErr: "render: apps/gone.yaml: no such file or directory",
		},

		// Kustomize mode.
		{
			name:     "kustomize resource beyond root",
			files:    map[string]string{"app/kustomization.yaml": "resources: [../../outside.yaml]\n"},
			path:     "app",
			wantKind: ErrPathEscape,
			wantErr:  "render: ../outside.yaml: path is outside the repository root",
		},
		{
			name:     "kustomize root kustomization reaching up",
			files:    map[string]string{"kustomization.yaml": "resources: [../outside.yaml]\n"},
			wantKind: ErrPathEscape,
			wantErr:  "render: ../outside.yaml: path is outside the repository root",
		},
		{
			name:     "kustomize absolute resource path",
			files:    map[string]string{"app/kustomization.yaml": "resources: [{tmp}/outside.yaml]\n"},
			path:     "app",
			wantKind: ErrPathEscape,
			wantErr:  "path is outside the repository root",
		},
		{
			name: "kustomize resource symlink to /etc/passwd",
			files: map[string]string{
				"app/kustomization.yaml": "resources: [passwd.yaml]\n",
				"app/passwd.yaml":        "-> /etc/passwd",
			},
			path:     "app",
			wantKind: ErrPathEscape,
			wantErr:  "render: app/passwd.yaml: symlink resolves to /etc/passwd, outside the repository root",
		},
		{
			name: "kustomize base dir symlink outside root",
			files: map[string]string{
				"app/kustomization.yaml": "resources: [base]\n",
				"app/base":               "-> {tmp}/outside-base",
			},
			path:     "app",
			wantKind: ErrPathEscape,
			wantErr:  "render: app/base",
		},
		{
			name: "kustomize generator file outside root",
			files: map[string]string{
				"app/kustomization.yaml": "configMapGenerator:\n  - name: loot\n    files: [/etc/passwd]\n",
			},
			path:     "app",
			wantKind: ErrPathEscape,
			wantErr:  "render: /etc/passwd: path is outside the repository root",
		},
		{
			name: "kustomize patch beyond root",
			files: map[string]string{
				"app/kustomization.yaml": "resources: [../base]\npatches:\n  - path: ../../outside.yaml\n",
			},
			path:     "app",
			wantKind: ErrPathEscape,
			wantErr:  "render: ../outside.yaml: path is outside the repository root",
		},
		{
			name:     "kustomization file symlinked outside root",
			files:    map[string]string{"app/kustomization.yaml": "-> {tmp}/outside-base/kustomization.yaml"},
			path:     "app",
			wantKind: ErrPathEscape,
			wantErr:  "render: app/kustomization.yaml: symlink resolves to ",
		},
		{
			name: "kustomize symlinks inside root work",
			files: map[string]string{
				"app/kustomization.yaml": "resources: [base]\npatches:\n  - path: label.yaml\n",
				"app/base":               "-> ../base",
				"app/label.yaml":         "-> ../patches/label.yaml",
			},
			path:      "app",
			wantNames: []string{"base"},
			wantFiles: []string{"app/base", "app/label.yaml", "base/cm.yaml", "base/kustomization.yaml", "patches/label.yaml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			writeTree(t, tmp, tmp, outside)
			writeTree(t, filepath.Join(tmp, "repo"), tmp, tt.files)
			res, err := Render(context.Background(), Options{Root: filepath.Join(tmp, "repo"), Path: tt.path})
			if tt.wantErr != "" {
				checkErr(t, err, tt.wantKind, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			var names []string
			for _, o := range res.Objects {
				names = append(names, o.GetName())
			}
			if !slices.Equal(names, tt.wantNames) {
				t.Errorf("objects %q, want %q", names, tt.wantNames)
			}
			for _, f := range tt.wantFiles {
				if !slices.Contains(res.Files, f) {
					t.Errorf("Files %q lacks %q", res.Files, f)
				}
			}
			for _, f := range res.Files {
				if strings.HasPrefix(f, "../") || filepath.IsAbs(f) {
					t.Errorf("Files lists %q, outside the root", f)
				}
			}
		})
	}
}
