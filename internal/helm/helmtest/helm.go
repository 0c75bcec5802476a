package helmtest

import (
	"bytes"
	"errors"

	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// EnvHelm names the variable that points at a helm binary; without it the
// binary is bin/tools/helm of the module root (for a git worktree without
// its own bin/, point it at another checkout's).
const EnvHelm = "CRUISE_HELM"

// modulePath is the module whose root holds bin/ and internal/.
const modulePath = "github.com/cruisegitops/cruise"

// Binary returns the path of the helm CLI, failing the test when there is
// none: a missing tool is a broken setup, never a reason to skip.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(EnvHelm); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("$%s=%s: %v (run `make bin/tools/helm`)", EnvHelm, p, err)
		}
		return p
	}
	p := filepath.Join(moduleRoot(t), "bin", "tools", "helm")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("the helm CLI is not at %s and $%s is not set: run `make bin/tools/helm` (`make test` builds it too)", p, EnvHelm)
	}
	return p
}

// moduleRoot is the nearest directory above the working directory (a
// test's package directory) whose go.mod declares cruise's module.
func moduleRoot(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if mod, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && declares(mod, modulePath) {
			return d
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	t.Fatalf("no go.mod of %s above %s", modulePath, wd)
	return ""
}

func declares(gomod []byte, module string) bool {
	for _, line := range strings.Split(string(gomod), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" && f[1] == module {
			return true
		}
	}
	return false
}

// Helm runs helm commands that share one set of HELM_* homes, so that
// state one command leaves (a `helm repo add`, a `helm registry login`)
// is there for the next. The zero value is not usable: call New.
type Helm struct {
	t    testing.TB
	bin  string
	home string
}

// New returns a Helm whose homes are in a fresh temporary directory of t.
func New(t testing.TB) *Helm {
	t.Helper()
	return &Helm{t: t, bin: Binary(t), home: t.TempDir()}
}

// Home is the directory that holds the HELM_* homes (cache, config, data,
// plugins, registry config), for tests that put files there.
func (h *Helm) Home() string { return h.home }

// Env is the environment every command runs with: nothing of the user's,
// homes under Home, and proxies that make any non-loopback connection
// fail at once instead of reaching the network.
func (h *Helm) Env() []string {
	// Port 9 (discard) on loopback: nothing listens, so a request that
	// should not leave the machine fails with "connection refused".
	const noProxy = "http://127.0.0.1:9"
	return []string{
		"HOME=" + h.home,
		"PATH=" + os.Getenv("PATH"),
		"HELM_CACHE_HOME=" + filepath.Join(h.home, "cache"),
		"HELM_CONFIG_HOME=" + filepath.Join(h.home, "config"),
		"HELM_DATA_HOME=" + filepath.Join(h.home, "data"),
		"HELM_PLUGINS=" + filepath.Join(h.home, "plugins"),
		"HELM_REGISTRY_CONFIG=" + filepath.Join(h.home, "config", "registry", "config.json"),
		"HELM_REPOSITORY_CONFIG=" + filepath.Join(h.home, "config", "repositories.yaml"),
		"HELM_REPOSITORY_CACHE=" + filepath.Join(h.home, "cache", "repository"),
		"KUBECONFIG=" + filepath.Join(h.home, "no-kubeconfig"),
		"HTTP_PROXY=" + noProxy, "HTTPS_PROXY=" + noProxy,
		"http_proxy=" + noProxy, "https_proxy=" + noProxy,
		"NO_PROXY=127.0.0.1,localhost,::1", "no_proxy=127.0.0.1,localhost,::1",
	}
}

// Run runs `helm ARGS...` and returns what it printed on stdout and
// stderr; err is non-nil when helm exits non-zero (an *exec.ExitError) or
// cannot start. For tests that compare cruise's errors with Helm's.
func (h *Helm) Run(args ...string) (stdout, stderr []byte, err error) {
	h.t.Helper()
	cmd := exec.Command(h.bin, args...)
	cmd.Dir = h.home
	cmd.Env = h.Env()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.Bytes(), errOut.Bytes(), err
}

// Must runs `helm ARGS...` and returns its stdout, failing the test with
// helm's stderr when it exits non-zero.
func (h *Helm) Must(args ...string) []byte {
	h.t.Helper()
	out, errOut, err := h.Run(args...)
	if err != nil {
		h.t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// Template runs `helm template ARGS...` and returns the rendered stream.
func (h *Helm) Template(args ...string) []byte {
	h.t.Helper()
	return h.Must(append([]string{"template"}, args...)...)
}

// Package runs `helm package` on the chart directory dir and returns the
// path of the archive, in a temporary directory of the test.
func (h *Helm) Package(dir string) string {
	h.t.Helper()
	dest := h.t.TempDir()
	h.Must("package", dir, "--destination", dest)
	archives, err := filepath.Glob(filepath.Join(dest, "*.tgz"))
	if err != nil || len(archives) != 1 {
		h.t.Fatalf("helm package %s wrote %d archives to %s, want 1 (%v)", dir, len(archives), dest, err)
	}
	return archives[0]
}

// Template runs `helm template ARGS...` with fresh homes and returns the
// rendered stream, e.g. Template(t, "web", Chart(t, "podinfo"),
// "--kube-version", "1.37", "--include-crds").
func Template(t testing.TB, args ...string) []byte {
	t.Helper()
	return New(t).Template(args...)
}

// ExitCode is helm's exit code in err as Run returns it, or -1 when err
// is not an exit.
func ExitCode(err error) int {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	return -1
}

// Chart returns the absolute path of the vendored chart directory
// internal/helm/testdata/charts/NAME (see its SOURCE.md). Tests must not
// write into it: use CopyChart for a chart to change.
func Chart(t testing.TB, name string) string {
	t.Helper()
	charts := filepath.Join(moduleRoot(t), "internal", "helm", "testdata", "charts")
	dir := filepath.Join(charts, name)
	if _, err := os.Stat(filepath.Join(dir, "Chart.yaml")); err != nil {
		entries, _ := os.ReadDir(charts)
		var names []string
		for _, e := range entries {
			if e.IsDir() {
				names = append(names, e.Name())
			}
		}
		t.Fatalf("no vendored chart %q in %s (have %s)", name, charts, strings.Join(names, ", "))
	}
	return dir
}

// CopyChart copies the vendored chart NAME into a temporary directory of
// the test and returns the copy's path, for a test that changes a chart
// (e.g. removes charts/ so that dependencies must be fetched).
func CopyChart(t testing.TB, name string) string {
	t.Helper()
	src := Chart(t, name)
	dst := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatalf("copy chart %s: %v", name, err)
	}
	return dst
}
