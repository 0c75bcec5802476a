package render

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*/want.yaml from the current output")

// TestRenderScenarios renders each testdata/<scenario>/repo and compares the
// output, printed by WriteYAML, with testdata/<scenario>/want.yaml, or
// checks the error.
func TestRenderScenarios(t *testing.T) {
	tests := []struct {
		name     string // defaults to scenario/path
		scenario string
		path     string
		opts     func(*Options)
		// Either an expected error (kind and message fragment)...
		wantKind error
		wantErr  string
		// ...or the output in want.yaml and, if set, the files read.
		wantFiles []string
	}{
		{
			scenario:  "plain-multidoc",
			path:      "apps",
			wantFiles: []string{"apps/namespace.yml", "apps/web/deploy.yaml"},
		},
		{
			scenario:  "plain-multidoc",
			path:      "",
			wantFiles: []string{"apps.yaml", "apps/namespace.yml", "apps/web/deploy.yaml"},
		},
		{scenario: "plain-json"},
		{scenario: "plain-list"},
		{scenario: "non-manifest-files-ignored", wantFiles: []string{"app.yaml"}},
		{
			scenario:  "ignore-file",
			path:      "env",
			wantFiles: []string{".cruiseignore", "env/.cruiseignore", "env/app.yaml", "env/keep.local.yaml"},
		},
		{scenario: "single-file", path: "apps/one.yaml", wantFiles: []string{"apps/one.yaml"}},
		{
			scenario: "malformed-yaml",
			wantKind: ErrInvalidManifest,
			wantErr:  "render: apps/web/deploy.yaml:12: yaml: mapping values are not allowed in this context",
		},
		{
			scenario: "missing-apiversion",
			wantKind: ErrInvalidManifest,
			wantErr:  "render: bad.yaml:6: document 2: missing apiVersion: not a Kubernetes object",
		},
		{
			scenario: "duplicate-object",
			wantKind: ErrDuplicateObject,
			wantErr:  "render: b/web.yaml: apps/Deployment shop/web is defined twice (also in a.yaml)",
		},
		{
			scenario: "kustomize-overlay-generators",
			path:     "overlays/prod",
			wantFiles: []string{
				"base/deployment.yaml",
				"base/kustomization.yaml",
				"base/service.yaml",
				"common/team-labels.yaml",
				"overlays/prod/app.properties",
				"overlays/prod/kustomization.yaml",
				"overlays/prod/replicas.yaml",
				"overlays/prod/secret.env",
			},
		},
		{
			scenario: "kustomize-remote-base",
			path:     "app",
			wantKind: ErrRemoteRefused,
			wantErr:  `render: app/kustomization.yaml: resources entry "https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v1.0.6" is a remote reference`,
		},
		{
			scenario: "kustomize-exec-plugin",
			path:     "app",
			wantKind: ErrPluginRefused,
			wantErr:  "render: app/kustomization.yaml: kustomize build: loading generator plugins: failed to load generator: external plugins disabled; unable to load external plugin 'SecretsFromVault'",
		},
		{
			scenario: "kustomize-function-plugin",
			path:     "app",
			wantKind: ErrPluginRefused,
			wantErr:  "external plugins disabled",
		},
		{
			scenario: "kustomize-helm-refused",
			path:     "app",
			wantKind: ErrPluginRefused,
			wantErr:  "render: app/kustomization.yaml: kustomize build: trouble configuring builtin HelmChartInflationGenerator",
		},
		{
			name:     "file over MaxFileBytes",
			scenario: "plain-multidoc",
			path:     "apps",
			opts:     func(o *Options) { o.MaxFileBytes = 100 },
			wantKind: ErrTooLarge,
			wantErr:  "render: apps/web/deploy.yaml: file is 262 bytes, over the limit of 100 (MaxFileBytes)",
		},
		{
			name:     "total over MaxTotalBytes",
			scenario: "plain-multidoc",
			opts:     func(o *Options) { o.MaxTotalBytes = 150 },
			wantKind: ErrTooLarge,
			wantErr:  "render: apps/web/deploy.yaml: reading this file (262 bytes) takes the render past its limit of 150 bytes (MaxTotalBytes)",
		},
		{
			name:     "kustomize base file over MaxFileBytes",
			scenario: "kustomize-overlay-generators",
			path:     "overlays/prod",
			opts:     func(o *Options) { o.MaxFileBytes = 390 },
			wantKind: ErrTooLarge,
			wantErr:  "render: base/deployment.yaml: file is 394 bytes, over the limit of 390 (MaxFileBytes)",
		},
		{
			name:     "kustomize total over MaxTotalBytes",
			scenario: "kustomize-overlay-generators",
			path:     "overlays/prod",
			opts:     func(o *Options) { o.MaxTotalBytes = 1000 },
			wantKind: ErrTooLarge,
			wantErr:  "(MaxTotalBytes)",
		},
	}
	for _, tt := range tests {
		name := tt.name
		if name == "" {
			name = tt.scenario
			if tt.path != "" {
				name += "/" + tt.path
			}
		}
		t.Run(name, func(t *testing.T) {
			opts := Options{Root: filepath.Join("testdata", tt.scenario, "repo"), Path: tt.path}
			if tt.opts != nil {
				tt.opts(&opts)
			}
			res, err := Render(context.Background(), opts)
			if tt.wantKind != nil || tt.wantErr != "" {
				checkErr(t, err, tt.wantKind, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			var out bytes.Buffer
			if err := WriteYAML(&out, res.Objects); err != nil {
				t.Fatalf("WriteYAML: %v", err)
			}
			golden := filepath.Join("testdata", tt.scenario, "want.yaml")
			if tt.path != "" && !strings.Contains(tt.path, ".") {
				golden = filepath.Join("testdata", tt.scenario, "want-"+strings.ReplaceAll(tt.path, "/", "-")+".yaml")
			}
			compareGolden(t, golden, out.Bytes())
			if tt.wantFiles != nil && !slices.Equal(res.Files, tt.wantFiles) {
				t.Errorf("Files:\n got %q\nwant %q", res.Files, tt.wantFiles)
			}
		})
	}
}

func compareGolden(t *testing.T, golden string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", golden, got, want)
	}
}

// checkErr asserts err matches kind (when set) and contains text, and that
// it reads as the package promises: "render:" prefix, one line.
func checkErr(t *testing.T, err error, kind error, text string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Render succeeded; want error %q", text)
	}
	if kind != nil && !errors.Is(err, kind) {
		t.Errorf("error %q is not %v", err, kind)
	}
	msg := err.Error()
	t.Logf("error: %s", msg)
	if !strings.Contains(msg, text) {
		t.Errorf("error\n %q\ndoes not contain\n %q", msg, text)
	}
	if !strings.HasPrefix(msg, "render: ") {
		t.Errorf("error %q lacks the render: prefix", msg)
	}
	if strings.ContainsAny(msg, "\n\r") {
		t.Errorf("error %q spans several lines", msg)
	}
}

func TestRenderOrdersPlainObjectsBySourceThenDocument(t *testing.T) {
	res, err := Render(context.Background(), Options{Root: filepath.Join("testdata", "plain-multidoc", "repo")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range res.Objects {
		got = append(got, o.Source+" "+o.GetKind())
	}
	// "apps.yaml" sorts before "apps/…" even though the walk visits the
	// apps directory first.
	want := []string{
		"apps.yaml ConfigMap",
		"apps/namespace.yml Namespace",
		"apps/web/deploy.yaml Deployment",
		"apps/web/deploy.yaml Service",
	}
	if !slices.Equal(got, want) {
		t.Errorf("order:\n got %q\nwant %q", got, want)
	}
}

func TestRenderOptionErrors(t *testing.T) {
	root := filepath.Join("testdata", "plain-multidoc", "repo")
	tests := []struct {
		name     string
		opts     Options
		wantKind error
		wantErr  string
	}{
		{"empty root", Options{}, nil, "render: Options.Root is empty"},
		{"missing root", Options{Root: filepath.Join("testdata", "nope")}, nil, "no such file or directory"},
		{"missing path", Options{Root: root, Path: "nope"}, nil, "render: nope: no such file or directory"},
		{"parent path", Options{Root: root, Path: "../x"}, ErrPathEscape, "render: ../x: path climbs out of the repository root"},
		{"sneaky parent path", Options{Root: root, Path: "apps/../../x"}, ErrPathEscape, "path climbs out of the repository root"},
		{"absolute path", Options{Root: root, Path: "/etc"}, ErrPathEscape, "render: /etc: path must be relative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(context.Background(), tt.opts)
			checkErr(t, err, tt.wantKind, tt.wantErr)
		})
	}
}

func TestRenderStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Render(ctx, Options{Root: filepath.Join("testdata", "plain-multidoc", "repo")})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestDefaultOptions(t *testing.T) {
	o := DefaultOptions()
	if o.MaxFileBytes != 5<<20 || o.MaxTotalBytes != 100<<20 || o.AllowRemoteBases {
		t.Errorf("DefaultOptions() = %+v", o)
	}
	if got := (Options{}).withDefaults(); got != o {
		t.Errorf("zero Options with defaults = %+v, want %+v", got, o)
	}
}

func TestExtraIgnorePatterns(t *testing.T) {
	root := t.TempDir()
	for name, body := range map[string]string{
		"app/keep.yaml":       "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\n",
		"app/drafts/wip.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: wip\n",
		"app/broken.yaml":     "not: [valid\n",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Render(t.Context(), Options{Root: root, Path: "app", Ignore: "# from spec.ignore\napp/drafts/\n*broken*\n"})
	if err != nil {
		t.Fatalf("render with ignore patterns: %v", err)
	}
	if len(res.Objects) != 1 || res.Objects[0].GetName() != "keep" {
		t.Fatalf("objects = %v, want only keep", res.Objects)
	}
	if _, err := Render(t.Context(), Options{Root: root, Path: "app"}); err == nil {
		t.Fatal("without the patterns the broken file must fail the render")
	}
}
