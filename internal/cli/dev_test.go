package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/internal/cli"
	"github.com/cruisegitops/cruise/internal/devcluster"
)

// run executes the cruise command line in-process and returns its exit code,
// stdout and stderr.
func run(ctx context.Context, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := cli.Run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestDevUpStatusDown(t *testing.T) {
	ctx := t.Context()
	bin, err := devcluster.FindBinDir(os.Getenv(devcluster.BinDirEnv))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "dev")
	flags := []string{"--dir", dir, "--bin-dir", bin}

	// `dev up` detaches its processes, so they do not die with the test
	// binary: take them down on failure and on interruption too.
	down := func() { run(context.Background(), append([]string{"dev", "down"}, flags...)...) }
	t.Cleanup(down)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	t.Cleanup(func() { signal.Stop(sig); close(sig) })
	go func() {
		if _, ok := <-sig; ok {
			down()
			os.Exit(2)
		}
	}()

	// What `make dev` runs: the full profile, the controller (the real
	// binary, which make test builds), the example, Ready, and the server.
	cruiseBin, err := filepath.Abs("../../bin/cruise")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serverAddr := l.Addr().String()
	l.Close()
	code, stdout, stderr := run(ctx, append([]string{"dev", "up", "--full", "--nodes", "2", "--example", "--server",
		"--server-addr", serverAddr, "--cruise-binary", cruiseBin}, flags...)...)
	if code != 0 {
		t.Fatalf("dev up: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "Application default/guestbook is Ready") {
		t.Fatalf("dev up --example did not report the example Ready:\n%s", stderr)
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if want := "export KUBECONFIG=" + kubeconfig + "\n"; stdout != want {
		t.Fatalf("dev up printed %q, want %q", stdout, want)
	}
	first, err := devcluster.Load(dir)
	if err != nil {
		t.Fatalf("load state: %v", err)
	}
	if len(first.Processes) != 7 {
		t.Fatalf("full profile with controller and server recorded %d processes, want 7", len(first.Processes))
	}
	if !strings.Contains(stderr, "open http://"+serverAddr+" and log in as admin") {
		t.Errorf("dev up --server did not say where the UI is:\n%s", stderr)
	}
	noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get("http://" + serverAddr + "/")
	if err != nil {
		t.Fatalf("web UI: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("web UI / = %d to %q, want the login redirect", resp.StatusCode, resp.Header.Get("Location"))
	}
	if fi, err := os.Stat(filepath.Join(dir, "admin-password")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("admin-password file: %v, %v; want mode 0600", fi, err)
	}

	kubectl := exec.CommandContext(ctx, filepath.Join(bin, "kubectl"), "get", "nodes", "-o", "name")
	kubectl.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	nodes, err := kubectl.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl get nodes: %v\n%s", err, nodes)
	}
	if got := strings.Fields(string(nodes)); len(got) != 2 || got[0] != "node/kwok-node-0" || got[1] != "node/kwok-node-1" {
		t.Fatalf("kubectl get nodes = %q, want the two fake nodes", nodes)
	}

	// A second `up` must find the running control plane and start nothing.
	code, stdout, stderr = run(ctx, append([]string{"dev", "up", "--full"}, flags...)...)
	if code != 0 || !strings.Contains(stderr, "already running") {
		t.Fatalf("second dev up: exit %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, kubeconfig) {
		t.Errorf("second dev up did not print the kubeconfig: %q", stdout)
	}
	second, err := devcluster.Load(dir)
	if err != nil {
		t.Fatalf("load state: %v", err)
	}
	for i := range first.Processes {
		if first.Processes[i].PID != second.Processes[i].PID {
			t.Errorf("%s restarted: pid %d then %d", first.Processes[i].Name, first.Processes[i].PID, second.Processes[i].PID)
		}
	}

	if code, stdout, _ := run(ctx, append([]string{"dev", "status"}, flags...)...); code != 0 || !strings.Contains(stdout, "profile:    full") {
		t.Errorf("dev status while up: exit %d\n%s", code, stdout)
	}

	if code, _, stderr := run(ctx, append([]string{"dev", "down"}, flags...)...); code != 0 {
		t.Fatalf("dev down: exit %d\n%s", code, stderr)
	}
	if alive, _ := first.Running(); len(alive) != 0 {
		t.Errorf("still running after dev down: %v", alive)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("state dir still there after dev down (err=%v)", err)
	}
	if code, _, _ := run(ctx, append([]string{"dev", "status"}, flags...)...); code != 1 {
		t.Errorf("dev status after down: exit %d, want 1", code)
	}
}

// TestDevDownWithSymlinkedBinDir: a binary directory of symlinks (as a
// packaged or shared bin/k8s may be) must not fool dev down, which once
// compared the recorded symlink path with the resolved /proc/PID/exe,
// took the running components for gone ones, reported success and left
// them running.
func TestDevDownWithSymlinkedBinDir(t *testing.T) {
	ctx := t.Context()
	real, err := devcluster.FindBinDir(os.Getenv(devcluster.BinDirEnv))
	if err != nil {
		t.Fatal(err)
	}
	links := t.TempDir()
	for _, name := range []string{"etcd", "kube-apiserver"} {
		if err := os.Symlink(filepath.Join(real, name), filepath.Join(links, name)); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), "dev")
	flags := []string{"--dir", dir, "--bin-dir", links}

	if code, _, stderr := run(ctx, append([]string{"dev", "up"}, flags...)...); code != 0 {
		t.Fatalf("dev up: exit %d\n%s", code, stderr)
	}
	st, err := devcluster.Load(dir)
	if err != nil {
		t.Fatalf("load state: %v", err)
	}
	// Identify each process by PID and start time, read here and not
	// through the code under test.
	type proc struct {
		name  string
		pid   int
		start string
	}
	var procs []proc
	for _, p := range st.Processes {
		start, ok := procStart(p.PID)
		if !ok {
			t.Fatalf("%s (pid %d) is not running after dev up", p.Name, p.PID)
		}
		procs = append(procs, proc{p.Name, p.PID, start})
	}
	running := func() []string {
		var out []string
		for _, p := range procs {
			if start, ok := procStart(p.pid); ok && start == p.start {
				out = append(out, fmt.Sprintf("%s (pid %d)", p.name, p.pid))
			}
		}
		return out
	}
	t.Cleanup(func() { // a failed dev down must not leave them behind
		for _, p := range procs {
			if start, ok := procStart(p.pid); ok && start == p.start {
				_ = syscall.Kill(-p.pid, syscall.SIGKILL)
			}
		}
	})

	code, stdout, stderr := run(ctx, append([]string{"dev", "down"}, flags...)...)
	if code != 0 {
		t.Fatalf("dev down: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "stopped") {
		t.Errorf("dev down printed %q, want it to say the control plane stopped", stdout)
	}
	// dev down returns once the processes are gone; their exit may take a
	// moment to show in /proc, so poll with a deadline.
	deadline := time.Now().Add(10 * time.Second)
	for still := running(); len(still) > 0; still = running() {
		if time.Now().After(deadline) {
			t.Fatalf("dev down reported success, but still running: %s", strings.Join(still, ", "))
		}
		time.Sleep(50 * time.Millisecond) // a PID's exit has no event to wait on
	}
}

// procStart is field 22 of /proc/PID/stat (start time since boot), and
// false when there is no such process or it is a zombie.
func procStart(pid int) (string, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", false
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 20 || fields[0] == "Z" || fields[0] == "X" {
		return "", false
	}
	return fields[19], true
}

func TestVersion(t *testing.T) {
	code, stdout, stderr := run(t.Context(), "version")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"cruise ", "commit: ", "go: go1."} {
		if !strings.Contains(stdout, want) {
			t.Errorf("version output %q lacks %q", stdout, want)
		}
	}
}

func TestUnknownCommandFails(t *testing.T) {
	code, _, stderr := run(t.Context(), "no-such-command")
	if code == 0 || !strings.Contains(stderr, "no-such-command") {
		t.Fatalf("exit %d, stderr %q: want a non-zero exit naming the command", code, stderr)
	}
}
