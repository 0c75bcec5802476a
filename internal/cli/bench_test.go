package cli_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// cruiseBinary finds bin/cruise above the working directory; `make bench`
// builds it first.
func cruiseBinary(b *testing.B) string {
	b.Helper()
	wd, err := os.Getwd()
	if err != nil {
		b.Fatal(err)
	}
	for d := wd; filepath.Dir(d) != d; d = filepath.Dir(d) {
		p := filepath.Join(d, "bin", "cruise")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	b.Fatal("bin/cruise not found: run `make build` (make bench does)")
	return ""
}

// writeBenchSet writes 1,000 ConfigMaps and 100 Deployments, one file each.
func writeBenchSet(b *testing.B, dir string) {
	b.Helper()
	for i := range 1000 {
		doc := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%04d\ndata:\n  index: \"%d\"\n  payload: %s\n", i, i, strings.Repeat("p", 200))
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("cm-%04d.yaml", i)), []byte(doc), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 100 {
		doc := fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: dep-%03d
spec:
  replicas: 1
  selector:
    matchLabels: {app: dep-%03d}
  template:
    metadata:
      labels: {app: dep-%03d}
    spec:
      containers:
      - name: c
        image: registry.invalid/app:1
`, i, i, i)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("dep-%03d.yaml", i)), []byte(doc), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// runMeasured runs the cruise binary and returns its peak resident memory.
func runMeasured(b *testing.B, bin string, wantCode int, args ...string) int64 {
	b.Helper()
	cmd := exec.Command(bin, args...)
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			b.Fatalf("run cruise: %v", err)
		}
		code = ee.ExitCode()
	}
	if code != wantCode {
		b.Fatalf("cruise %s: exit %d, want %d\n%s", strings.Join(args, " "), code, wantCode, tailLines(string(out), 10))
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return ru.Maxrss * 1024 // Linux reports KiB
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// BenchmarkCLI1100 runs the real cruise binary, as a CI pipeline would, on
// 1,000 ConfigMaps and 100 Deployments: first apply into an empty
// namespace, a no-op re-apply and a diff. ns/op is the wall time of one
// run, process start included; peak-RSS-MiB is the process's high-water
// mark.
func BenchmarkCLI1100(b *testing.B) {
	bin := cruiseBinary(b)
	dir := b.TempDir()
	writeBenchSet(b, dir)
	flags := func(ns string) []string {
		return []string{"--source", dir, "--kubeconfig", env.Cluster.Kubeconfig, "--namespace", ns, "--inventory-namespace", ns, "--name", "bench"}
	}
	// Warm the API server (first writes after start-up are slow) and leave
	// a namespace in sync for the no-op and diff runs.
	warm := env.Namespace(b)
	runMeasured(b, bin, 0, append([]string{"apply", "--prune"}, flags(warm)...)...)

	phases := []struct {
		name  string
		fresh bool
		code  int
		args  []string
	}{
		{"first-apply", true, 0, []string{"apply", "--prune"}},
		{"noop-reapply", false, 0, []string{"apply", "--prune"}},
		{"diff", false, 0, []string{"diff", "--prune"}},
	}
	for _, p := range phases {
		b.Run(p.name, func(b *testing.B) {
			var peak int64
			for b.Loop() {
				ns := warm
				if p.fresh {
					b.StopTimer()
					ns = env.Namespace(b)
					b.StartTimer()
				}
				rss := runMeasured(b, bin, p.code, append(p.args, flags(ns)...)...)
				peak = max(peak, rss)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
		})
	}
}
