package e2e_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
)

// BenchmarkUnsealSealedSecrets is the figure: 1,000 SealedSecrets
// of 5 keys each, sealed beforehand and created at once (4 writers),
// against a controller process of its own. It reports the time until all
// are Ready (Unsealed), the controller's CPU seconds and peak RSS for
// that, and the same for a restart of the controller with all 1,000 in
// place (it knows nothing of what it unsealed before, so it decrypts and
// compares every one again).
func BenchmarkUnsealSealedSecrets(b *testing.B) {
	for b.Loop() {
		runUnsealSealedSecrets(b, 1000, 5)
	}
}

func runUnsealSealedSecrets(b *testing.B, n, keys int) {
	b.StopTimer()
	ns := env.Namespace(b)
	proc := startController(b)
	to := clusterRecipient(b, k8s)
	objs := make([]*cruisev1.SealedSecret, n)
	for i := range objs {
		values := map[string]string{}
		for k := range keys {
			values[fmt.Sprintf("key-%d", k)] = fmt.Sprintf("value %d of secret %d, 32 bytes or so", k, i)
		}
		objs[i] = sealedSecret(b, ns, fmt.Sprintf("secret-%04d", i), values, to)
	}
	readyCh := watchUnsealed(b, ns, n)
	cpu0, _ := procStats(b, proc.cmd.Process.Pid)
	b.StartTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for worker := range 4 {
		wg.Go(func() {
			for i := worker; i < n; i += 4 {
				if err := k8s.Create(b.Context(), objs[i]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	created := time.Since(start)
	select {
	case err := <-readyCh:
		if err != nil {
			b.Fatal(err)
		}
	case <-time.After(10 * time.Minute):
		b.Fatalf("not all %d SealedSecrets Ready after 10 minutes", n)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cpu1, rss := procStats(b, proc.cmd.Process.Pid)
	b.ReportMetric(created.Seconds(), "s-to-all-created")
	b.ReportMetric(elapsed.Seconds(), "s-to-all-Ready")
	b.ReportMetric((cpu1 - cpu0).Seconds(), "controller-CPU-s")
	b.ReportMetric(float64(rss)/(1<<20), "controller-peak-RSS-MiB")

	// A restart: a new process with every SealedSecret already unsealed.
	proc.kill()
	proc = startController(b)
	start = time.Now()
	clustertest.Eventually(b, 10*time.Minute, func() (bool, error) {
		done := proc.reconcilesOf("sealedsecret")
		return done >= float64(n), fmt.Errorf("%v of %d SealedSecrets reconciled after the restart", done, n)
	})
	restart := time.Since(start)
	cpu, rss := procStats(b, proc.cmd.Process.Pid)
	b.ReportMetric(restart.Seconds(), "s-restart-all-checked")
	b.ReportMetric(cpu.Seconds(), "restart-controller-CPU-s")
	b.ReportMetric(float64(rss)/(1<<20), "restart-controller-peak-RSS-MiB")
	proc.kill()
	b.StartTimer() // b.Loop expects the timer running between iterations
}

// watchUnsealed follows SealedSecrets of ns from now on and sends nil
// once n of them are Ready at their generation, or the first failure. It
// reads the watch from the start, in a goroutine: the API server closes a
// watch whose reader falls behind. A watch rather than polling a List:
// the 1,000 objects are 4 MB, and listing them every 100 ms would take CPU
// from the controller being measured.
func watchUnsealed(b *testing.B, ns string, n int) <-chan error {
	b.Helper()
	scheme, err := clustertest.Scheme()
	if err != nil {
		b.Fatal(err)
	}
	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		b.Fatal(err)
	}
	w, err := wc.Watch(b.Context(), &cruisev1.SealedSecretList{}, client.InNamespace(ns))
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		defer w.Stop()
		ready := map[string]bool{}
		for ev := range w.ResultChan() {
			ss, ok := ev.Object.(*cruisev1.SealedSecret)
			if !ok {
				done <- fmt.Errorf("watch: %s event %v", ev.Type, ev.Object)
				return
			}
			if sealedReady(ss) {
				ready[ss.Name] = true
				if len(ready) == n {
					done <- nil
					return
				}
			} else if c := meta.FindStatusCondition(ss.Status.Conditions, cruisev1.ConditionReady); c != nil {
				done <- fmt.Errorf("SealedSecret %s: %s %s: %s", ss.Name, c.Status, c.Reason, c.Message)
				return
			}
		}
		done <- fmt.Errorf("watch closed with %d of %d Ready", len(ready), n)
	}()
	return done
}
