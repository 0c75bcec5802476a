package helm_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/cruisegitops/cruise/internal/helm"
	"github.com/cruisegitops/cruise/internal/helm/helmtest"
)

// BenchmarkRenderLargeChart renders kube-prometheus-stack with the
// values that switch on its optional parts (160 objects, 9 hooks): cruise
// in process (load from disk, render, decode into objects), `cruise
// build` and the `helm template` binary of the same Helm version on the
// same chart and values, process start included, as a user runs either.
func BenchmarkRenderLargeChart(b *testing.B) {
	dir := helmtest.Chart(b, "kube-prometheus-stack")
	valuesFile := filepath.Join(filepath.Dir(dir), "kube-prometheus-stack.large-values.yaml")
	data, err := os.ReadFile(valuesFile)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("cruise", func(b *testing.B) {
		objects := 0
		for b.Loop() {
			var vals helm.Values
			if err := vals.AddFile("large-values.yaml", data); err != nil {
				b.Fatal(err)
			}
			ch, _, err := helm.LoadDir(filepath.Dir(dir), filepath.Base(dir), helm.Limits{})
			if err != nil {
				b.Fatal(err)
			}
			rel, err := helm.Render(b.Context(), ch, helm.Options{ReleaseName: "rel", Namespace: "prod", Values: vals.Map()})
			if err != nil {
				b.Fatal(err)
			}
			objects = len(rel.BuildObjects())
		}
		b.ReportMetric(float64(objects), "objects")
	})
	b.Run("cruise-build", func(b *testing.B) {
		bin, err := filepath.Abs("../../bin/cruise")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := os.Stat(bin); err != nil {
			b.Fatalf("%s: run `make build` (make bench does): %v", bin, err)
		}
		var out []byte
		for b.Loop() {
			cmd := exec.Command(bin, "build", "--source", filepath.Dir(dir), "--path", filepath.Base(dir),
				"-n", "prod", "--release-name", "rel", "--values", valuesFile)
			if out, err = cmd.Output(); err != nil {
				b.Fatalf("cruise build: %v", err)
			}
		}
		b.ReportMetric(float64(len(helmtest.Objects(b, out))), "objects")
	})
	b.Run("helm-template", func(b *testing.B) {
		h := helmtest.New(b)
		var out []byte
		for b.Loop() {
			out = h.Template("rel", dir, "--namespace", "prod", "--kube-version", helm.DefaultKubeVersion, "--include-crds", "--values", valuesFile)
		}
		b.ReportMetric(float64(len(helmtest.Objects(b, out))), "objects")
	})
}
