package render

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRenderRefusesRemoteReferences checks every place a kustomization can
// name a URL or git repository. None of the URLs is reachable from a test;
// the point is that render refuses before kustomize tries.
func TestRenderRefusesRemoteReferences(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		wantErr string
	}{
		{"github shorthand resource", map[string]string{
			"app/kustomization.yaml": "resources:\n  - github.com/example/repo/deploy?ref=v1\n",
		}, `resources entry "github.com/example/repo/deploy?ref=v1"`},
		{"scp-style git resource", map[string]string{
			"app/kustomization.yaml": "resources:\n  - git@github.com:example/repo.git\n",
		}, `resources entry "git@github.com:example/repo.git"`},
		{"ssh resource", map[string]string{
			"app/kustomization.yaml": "resources:\n  - ssh://git@git.example.com/org/repo//deploy\n",
		}, "is a remote reference"},
		{"file URL resource, a local clone that would bypass the root", map[string]string{
			"app/kustomization.yaml": "resources:\n  - file:///srv/other-tenant/repo\n",
		}, `resources entry "file:///srv/other-tenant/repo"`},
		{"deprecated bases field", map[string]string{
			"app/kustomization.yaml": "bases:\n  - https://example.com/base\n",
		}, `resources entry "https://example.com/base"`},
		{"component", map[string]string{
			"app/kustomization.yaml": "components:\n  - https://example.com/component\n",
		}, `components entry "https://example.com/component"`},
		{"patch path", map[string]string{
			"app/kustomization.yaml": "patches:\n  - path: http://169.254.169.254/latest/meta-data\n",
		}, `patches entry "http://169.254.169.254/latest/meta-data"`},
		{"strategic merge patch", map[string]string{
			"app/kustomization.yaml": "patchesStrategicMerge:\n  - https://example.com/patch.yaml\n",
		}, `patchesStrategicMerge entry "https://example.com/patch.yaml"`},
		{"generator file source", map[string]string{
			"app/kustomization.yaml": "configMapGenerator:\n  - name: x\n    files:\n      - key=https://example.com/file\n",
		}, `configMapGenerator entry "https://example.com/file"`},
		{"crd", map[string]string{
			"app/kustomization.yaml": "crds:\n  - https://example.com/crd.json\n",
		}, `crds entry "https://example.com/crd.json"`},
		{"inline transformer configuration", map[string]string{
			"app/kustomization.yaml": "transformers:\n  - |-\n    apiVersion: builtin\n    kind: PatchTransformer\n    metadata:\n      name: p\n    path: https://example.com/patch.yaml\n",
		}, `transformers configuration refers to "https://example.com/patch.yaml"`},
		{"transformer configuration file", map[string]string{
			"app/kustomization.yaml": "transformers:\n  - patch.yaml\n",
			"app/patch.yaml":         "apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: p\npath: http://169.254.169.254/\n",
		}, "render: app/patch.yaml: transformers configuration refers to"},
		{"remote reference in a base", map[string]string{
			"app/kustomization.yaml":  "resources:\n  - ../base\n",
			"base/kustomization.yaml": "resources:\n  - https://example.com/all.yaml\n",
		}, `render: base/kustomization.yaml: resources entry "https://example.com/all.yaml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, root, tt.files)
			_, err := Render(context.Background(), Options{Root: root, Path: "app"})
			checkErr(t, err, ErrRemoteRefused, tt.wantErr)
		})
	}
}

// TestRenderLocalNamesThatLookRemote makes sure the remote check does not
// trip over local files whose names merely contain "@" or "github".
func TestRenderLocalNamesThatLookRemote(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, root, map[string]string{
		"app/kustomization.yaml":   "resources:\n  - user@host.yaml\n  - github.com.yaml\n",
		"app/user@host.yaml":       configMap("at"),
		"app/github.com.yaml":      configMap("gh"),
		"app/unused-remote-ish.md": "https://example.com",
	})
	res, err := Render(context.Background(), Options{Root: root, Path: "app"})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if len(res.Objects) != 2 {
		t.Errorf("got %d objects, want 2", len(res.Objects))
	}
}

// TestRenderAllowRemoteBases uses a git repository on local disk, reached
// through a file:// URL, as the remote base: kustomize clones it with git
// exactly as it would a hosted one, without needing a network.
func TestRenderAllowRemoteBases(t *testing.T) {
	gitBin, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("this test needs git on PATH, as kustomize does for remote bases: %v", err)
	}
	tmp := t.TempDir()
	remote := filepath.Join(tmp, "remote")
	writeTree(t, remote, tmp, map[string]string{
		"deploy/kustomization.yaml": "resources: [cm.yaml]\n",
		"deploy/cm.yaml":            configMap("from-remote"),
	})
	for _, args := range [][]string{
		{"init", "-q"},
		{"add", "."},
		{"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "base"},
	} {
		cmd := exec.Command(gitBin, args...)
		cmd.Dir = remote
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+tmp)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	root := filepath.Join(tmp, "repo")
	url := "file://" + filepath.ToSlash(remote) + "//deploy"
	writeTree(t, root, tmp, map[string]string{
		"app/kustomization.yaml": "resources:\n  - " + url + "\n  - local.yaml\n",
		"app/local.yaml":         configMap("local"),
	})

	_, err = Render(context.Background(), Options{Root: root, Path: "app"})
	checkErr(t, err, ErrRemoteRefused, "is a remote reference")

	res, err := Render(context.Background(), Options{Root: root, Path: "app", AllowRemoteBases: true})
	if err != nil {
		t.Fatalf("Render with AllowRemoteBases: %v", err)
	}
	var names []string
	for _, o := range res.Objects {
		names = append(names, o.GetName())
	}
	slices.Sort(names)
	if want := []string{"from-remote", "local"}; !slices.Equal(names, want) {
		t.Errorf("objects %q, want %q", names, want)
	}
	if want := []string{"app/kustomization.yaml", "app/local.yaml"}; !slices.Equal(res.Files, want) {
		t.Errorf("Files %q, want %q (clone files are not repository files)", res.Files, want)
	}
	for _, f := range res.Files {
		if strings.Contains(f, "kustomize-") {
			t.Errorf("Files lists clone path %q", f)
		}
	}
}
