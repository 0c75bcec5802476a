package e2e_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
	"github.com/cruisegitops/cruise/internal/source/gittest"
)

// procStats reads a process's CPU time (user+system) and peak RSS.
func procStats(b testing.TB, pid int) (cpu time.Duration, peakRSS int64) {
	b.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	cpu = time.Duration(utime+stime) * time.Second / ticks
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			peakRSS = kb * 1024
		}
	}
	return cpu, peakRSS
}

// BenchmarkManyApplications is the scenario (b): N Applications of
// M ConfigMaps each on one repository, created at once, against a
// controller process of its own. It reports the time until all are Ready,
// the controller's CPU seconds and peak RSS for that, the time of a full
// resync with no changes (every Application asked to reconcile), and the
// CPU the controller uses while idle for a minute.
func BenchmarkManyApplications(b *testing.B) {
	for _, sc := range []struct{ apps, objects int }{{100, 20}, {1000, 10}} {
		b.Run(fmt.Sprintf("%dx%d", sc.apps, sc.objects), func(b *testing.B) {
			for b.Loop() {
				runManyApplications(b, sc.apps, sc.objects)
			}
		})
	}
}

func runManyApplications(b *testing.B, apps, objects int) {
	b.StopTimer()
	ns := env.Namespace(b)
	root := b.TempDir()
	repo := gittest.NewRepo(b, filepath.Join(root, "env.git"), true)
	srv := gittest.ServeHTTP(b, root, gittest.HTTPOptions{})
	files := map[string]string{}
	for a := range apps {
		for o := range objects {
			files[fmt.Sprintf("app-%04d/cm-%02d.yaml", a, o)] = fmt.Sprintf(
				"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-%04d-cm-%02d\ndata:\n  value: \"%d\"\n", a, o, o)
		}
	}
	commit := repo.Commit("many apps", files)
	src := &cruisev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "env", Namespace: ns},
		Spec: cruisev1.GitRepositorySpec{URL: srv.RepoURL("env.git"), Ref: &cruisev1.GitRef{Branch: "main"},
			Interval: metav1.Duration{Duration: time.Hour}},
	}
	if err := k8s.Create(b.Context(), src); err != nil {
		b.Fatal(err)
	}
	ctrlProc := startController(b, "--concurrency", "8")
	clustertest.Eventually(b, time.Minute, func() (bool, error) {
		got := &cruisev1.GitRepository{}
		if err := k8s.Get(b.Context(), client.ObjectKeyFromObject(src), got); err != nil {
			return false, err
		}
		return got.Status.Artifact != nil && got.Status.Artifact.Commit == commit, nil
	})
	cpu0, _ := procStats(b, ctrlProc.cmd.Process.Pid)

	b.StartTimer()
	start := time.Now()
	for a := range apps {
		app := &cruisev1.Application{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app-%04d", a), Namespace: ns},
			Spec: cruisev1.ApplicationSpec{
				SourceRef: cruisev1.SourceReference{Kind: "GitRepository", Name: "env"},
				Path:      fmt.Sprintf("app-%04d", a), Prune: true, Interval: metav1.Duration{Duration: time.Hour},
			},
		}
		if err := k8s.Create(b.Context(), app); err != nil {
			b.Fatal(err)
		}
	}
	allReady := func(check func(*cruisev1.Application) bool) {
		clustertest.Eventually(b, 10*time.Minute, func() (bool, error) {
			var list cruisev1.ApplicationList
			if err := k8s.List(b.Context(), &list, client.InNamespace(ns)); err != nil {
				return false, err
			}
			n, example := 0, ""
			for i := range list.Items {
				if check(&list.Items[i]) {
					n++
				} else if example == "" {
					example = describe(&list.Items[i])
				}
			}
			return n == apps, fmt.Errorf("%d of %d done; e.g. %s", n, apps, example)
		})
	}
	allReady(func(a *cruisev1.Application) bool {
		return ready(a) && strings.HasSuffix(a.Status.LastAppliedRevision, commit)
	})
	syncTime := time.Since(start)
	b.StopTimer()
	cpu1, rss := procStats(b, ctrlProc.cmd.Process.Pid)
	b.ReportMetric(syncTime.Seconds(), "s-to-all-Ready")
	b.ReportMetric((cpu1 - cpu0).Seconds(), "controller-CPU-s")
	b.ReportMetric(float64(rss)/(1<<20), "controller-peak-RSS-MiB")

	// A full resync with nothing to change: every Application asked at once.
	stamp := time.Now().Format(time.RFC3339Nano)
	start = time.Now()
	var list cruisev1.ApplicationList
	if err := k8s.List(b.Context(), &list, client.InNamespace(ns)); err != nil {
		b.Fatal(err)
	}
	for i := range list.Items {
		app := &list.Items[i]
		patch := client.MergeFrom(app.DeepCopy())
		app.Annotations = map[string]string{cruisev1.ReconcileRequestAnnotation: stamp}
		if err := k8s.Patch(b.Context(), app, patch); err != nil {
			b.Fatal(err)
		}
	}
	allReady(func(a *cruisev1.Application) bool { return a.Status.LastHandledReconcileAt == stamp && ready(a) })
	b.ReportMetric(time.Since(start).Seconds(), "s-full-resync")

	// Idle: a minute with nothing to do.
	cpuIdle0, _ := procStats(b, ctrlProc.cmd.Process.Pid)
	time.Sleep(time.Minute) // measuring idle cost, not synchronising
	cpuIdle1, _ := procStats(b, ctrlProc.cmd.Process.Pid)
	b.ReportMetric((cpuIdle1 - cpuIdle0).Seconds(), "idle-CPU-s/min")
	ctrlProc.kill()
	b.StartTimer() // b.Loop expects the timer running between iterations
}

func ready(a *cruisev1.Application) bool {
	for _, c := range a.Status.Conditions {
		if c.Type == cruisev1.ConditionReady {
			return c.Status == metav1.ConditionTrue && c.ObservedGeneration == a.Generation
		}
	}
	return false
}

// describe summarises an Application's state for a failure message.
func describe(a *cruisev1.Application) string {
	for _, c := range a.Status.Conditions {
		if c.Type == cruisev1.ConditionReady {
			return fmt.Sprintf("%s: Ready=%s %s: %s (revision %q, observed %d, generation %d)", a.Name, c.Status, c.Reason, c.Message, a.Status.LastAppliedRevision, c.ObservedGeneration, a.Generation)
		}
	}
	return a.Name + ": no Ready condition"
}
