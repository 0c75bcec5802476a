package e2e_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/chartrepo/chartrepotest"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
	"github.com/cruisegitops/cruise/internal/helm/helmtest"
)

// BenchmarkChartApplications: 100 Applications, each deploying its own
// version of the podinfo chart (6.14.1-bench.N, so the controller holds
// 100 different archives) from an OCI registry on loopback, created at
// once against a controller process of its own. It reports the time
// until all are Ready, the controller's CPU seconds, and its peak RSS
// with the 100 charts cached. This control plane runs no kubelet, so the
// Applications set wait: false (Ready once applied).
func BenchmarkChartApplications(b *testing.B) {
	for b.Loop() {
		runChartApplications(b, 100)
	}
}

func runChartApplications(b *testing.B, apps int) {
	b.StopTimer()
	ns := env.Namespace(b)
	reg := chartrepotest.NewOCI(b, chartrepotest.OCIOptions{})
	dir := helmtest.Chart(b, "podinfo")
	for i := range apps {
		reg.Push(b, chartrepotest.PackageDir(b, dir, fmt.Sprintf("6.14.1-bench.%d", i)))
	}
	ctrlProc := startController(b, "--concurrency", "8")
	cpu0, _ := procStats(b, ctrlProc.cmd.Process.Pid)
	wait := false

	b.StartTimer()
	start := time.Now()
	for i := range apps {
		app := &cruisev1.Application{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%03d", i), Namespace: ns},
			Spec: cruisev1.ApplicationSpec{
				Chart: &cruisev1.ChartSource{RepoURL: reg.URL(), Name: "podinfo", Version: fmt.Sprintf("6.14.1-bench.%d", i)},
				Prune: true, Wait: &wait, Interval: metav1.Duration{Duration: time.Hour},
			},
		}
		if err := k8s.Create(b.Context(), app); err != nil {
			b.Fatal(err)
		}
	}
	clustertest.Eventually(b, 10*time.Minute, func() (bool, error) {
		var list cruisev1.ApplicationList
		if err := k8s.List(b.Context(), &list, client.InNamespace(ns)); err != nil {
			return false, err
		}
		n, example := 0, ""
		for i := range list.Items {
			if ready(&list.Items[i]) && strings.HasPrefix(list.Items[i].Status.LastAppliedRevision, "6.14.1-bench.") {
				n++
			} else if example == "" {
				example = describe(&list.Items[i])
			}
		}
		return n == apps, fmt.Errorf("%d of %d Ready; e.g. %s", n, apps, example)
	})
	elapsed := time.Since(start)
	b.StopTimer()
	cpu1, rss := procStats(b, ctrlProc.cmd.Process.Pid)
	b.ReportMetric(elapsed.Seconds(), "s-to-all-Ready")
	b.ReportMetric((cpu1 - cpu0).Seconds(), "controller-CPU-s")
	b.ReportMetric(float64(rss)/(1<<20), "controller-peak-RSS-MiB")
	ctrlProc.kill()
	b.StartTimer()
}
