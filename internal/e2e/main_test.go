package e2e_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/internal/devcluster"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
)

var (
	env *clustertest.Env
	k8s client.Client
)

func TestMain(m *testing.M) {
	os.Exit(clustertest.Main(m, devcluster.ProfileAPI, &env, setup))
}

func setup(ctx context.Context, e *clustertest.Env) error {
	if err := clustertest.InstallCRDs(ctx, e.Config); err != nil {
		return err
	}
	scheme, err := clustertest.Scheme()
	if err != nil {
		return err
	}
	k8s, err = client.New(e.Config, client.Options{Scheme: scheme})
	return err
}

// cruiseBinary finds bin/cruise (make test builds it first).
func cruiseBinary(t testing.TB) string {
	t.Helper()
	p, err := filepath.Abs("../../bin/cruise")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s missing: run `make build` (make test does): %v", p, err)
	}
	return p
}

// controllerProcess is a `cruise controller` running as its own process.
type controllerProcess struct {
	cmd     *exec.Cmd
	metrics string // base URL of its metrics endpoint
	done    chan struct{}
}

// startController runs `cruise controller` against the test cluster with
// extra flags; it is killed when the test ends.
func startController(t testing.TB, extra ...string) *controllerProcess {
	t.Helper()
	port := freePort(t)
	args := append([]string{"controller",
		"--kubeconfig", env.Cluster.Kubeconfig,
		"--metrics-addr", fmt.Sprintf("127.0.0.1:%d", port),
		"--health-addr", "0",
		"--cache-dir", t.TempDir(),
		"--log-level", "error",
	}, extra...)
	cmd := exec.Command(cruiseBinary(t), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &controllerProcess{cmd: cmd, metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", port), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			t.Logf("controller %d: %s", cmd.Process.Pid, sc.Text())
		}
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.kill)
	return p
}

// kill ends the process at once, as a node failure or OOM kill would.
func (p *controllerProcess) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// reconciles returns the Application reconciles the process has finished,
// from its metrics; -1 while the endpoint is not up.
func (p *controllerProcess) reconciles() float64 { return p.reconcilesOf("application") }

// reconcilesOf returns the reconciles controller ("application",
// "gitrepository") has finished in the process; -1 while the endpoint is
// not up.
func (p *controllerProcess) reconcilesOf(controller string) float64 {
	resp, err := http.Get(p.metrics)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	total := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "controller_runtime_reconcile_total{") && strings.Contains(line, `controller="`+controller+`"`) {
			var v float64
			if _, err := fmt.Sscanf(line[strings.LastIndexByte(line, ' ')+1:], "%g", &v); err == nil {
				total += v
			}
		}
	}
	return total
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
