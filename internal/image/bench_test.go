package image_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/internal/image"
	"github.com/cruisegitops/cruise/internal/image/registrytest"
)

// BenchmarkScan10000Tags is the scan figure: listing an image
// with 10,000 tags (and the default exclusions) from a registry on
// loopback that pages its tag list at 100 or 1,000 tags a page
// (registries differ; the scan asks for 1,000, ECR's most). The registry runs in
// a process of its own, so that the time, CPU, allocations and heap
// reported are the scan's alone: per scan, the requests made, the CPU
// time, and the peak live heap above the baseline.
func BenchmarkScan10000Tags(b *testing.B) {
	for _, pageSize := range []int{100, 1000} {
		b.Run(fmt.Sprintf("page-%d", pageSize), func(b *testing.B) {
			host := registryProcess(b, 10000, pageSize)
			ex, err := image.CompileExclusions(nil)
			if err != nil {
				b.Fatal(err)
			}
			s := image.Scan{Image: host + "/big/app", Insecure: true, Exclude: ex}
			ctx := context.Background()
			if res, err := s.Run(ctx); err != nil || len(res.Tags) != 10000 {
				b.Fatalf("warm-up scan: %d tags, %v", len(res.Tags), err)
			}

			var requests int64
			var peak uint64
			var cpu time.Duration
			scans := 0
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				runtime.GC()
				cpu0 := cpuTime(b)
				sampler := startHeapSampler()
				b.StartTimer()
				res, err := s.Run(ctx)
				b.StopTimer()
				peak = max(peak, sampler.stop())
				cpu += cpuTime(b) - cpu0
				b.StartTimer()
				if err != nil || len(res.Tags) != 10000 || res.Truncated {
					b.Fatalf("scan: %d tags (truncated %v), %v", len(res.Tags), res.Truncated, err)
				}
				requests += res.Requests
				scans++
			}
			b.ReportMetric(float64(requests)/float64(scans), "requests/scan")
			b.ReportMetric(float64(cpu.Milliseconds())/float64(scans), "CPU-ms/scan")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

// heapSampler polls the live heap every 200µs; stop returns the most it
// grew over the baseline taken at start.
type heapSampler struct {
	base uint64
	peak atomic.Uint64
	done chan struct{}
	quit chan struct{}
}

const heapMetric = "/memory/classes/heap/objects:bytes"

func readHeap() uint64 {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{base: readHeap(), done: make(chan struct{}), quit: make(chan struct{})}
	go func() {
		defer close(h.done)
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			if v := readHeap(); v > h.peak.Load() {
				h.peak.Store(v)
			}
			select {
			case <-h.quit:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapSampler) stop() uint64 {
	close(h.quit)
	<-h.done
	if p := h.peak.Load(); p > h.base {
		return p - h.base
	}
	return 0
}

// cpuTime is this process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// registryEnv carries "tags,pageSize" to TestRegistryProcess.
const registryEnv = "CRUISE_BENCH_REGISTRY"

// registryProcess runs a registry holding one image tagged 0 … tags-1
// (as "big/app") in a child process: this test binary, running
// TestRegistryProcess. It returns the registry's host:port; the process
// ends with the benchmark.
func registryProcess(b *testing.B, tags, pageSize int) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRegistryProcess$", "-test.timeout=0")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d,%d", registryEnv, tags, pageSize))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close() // the child's signal to stop
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if host, ok := strings.CutPrefix(sc.Text(), "registry "); ok {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			return host
		}
	}
	b.Fatalf("the registry process ended before serving: %v", sc.Err())
	return ""
}

// TestRegistryProcess is the registry registryProcess runs; run by
// anything else, it has nothing to do.
func TestRegistryProcess(t *testing.T) {
	spec := os.Getenv(registryEnv)
	if spec == "" {
		return
	}
	tagsStr, pageStr, _ := strings.Cut(spec, ",")
	tags, err1 := strconv.Atoi(tagsStr)
	pageSize, err2 := strconv.Atoi(pageStr)
	if err1 != nil || err2 != nil {
		t.Fatalf("%s=%q: want tags,pageSize", registryEnv, spec)
	}
	reg := registrytest.Start(t, registrytest.Options{PageSize: pageSize})
	reg.Push("big/app", "0", registrytest.Image(t, time.Now(), "big"))
	names := make([]string, 0, tags-1)
	for i := 1; i < tags; i++ {
		names = append(names, strconv.Itoa(i))
	}
	reg.Tag("big/app", "0", names...)
	fmt.Printf("registry %s\n", reg.Host())
	_, _ = io.Copy(io.Discard, os.Stdin) // serve until the parent closes stdin
}
