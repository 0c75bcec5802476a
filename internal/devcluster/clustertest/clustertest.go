package clustertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/cruisegitops/cruise/internal/devcluster"
)

// Env is a running control plane shared by one test package.
type Env struct {
	Cluster *devcluster.Cluster
	Config  *rest.Config
	Client  kubernetes.Interface
}

// Main starts a control plane with the given profile, stores it in *env,
// runs setup (for example to start a controller; its context ends when the
// tests have run), runs the tests and stops the control plane again, also
// when the run is interrupted. It returns the exit code for os.Exit.
func Main(m *testing.M, profile devcluster.Profile, env **Env, setup ...func(context.Context, *Env) error) int {
	e, err := Start(context.Background(), profile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "clustertest: %v\n", err)
		return 1
	}
	*env = e
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, f := range setup {
		if err := f(ctx, e); err != nil {
			fmt.Fprintf(os.Stderr, "clustertest: setup: %v\n", err)
			_ = e.Cluster.Stop()
			return 1
		}
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		if _, ok := <-sig; ok {
			_ = e.Cluster.Stop()
			os.Exit(2)
		}
	}()
	code := m.Run()
	cancel()
	signal.Stop(sig)
	close(sig)
	if err := e.Cluster.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "clustertest: stop control plane: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Start starts a control plane for tests: binaries from $KUBEBUILDER_ASSETS
// or bin/k8s, a temporary directory, processes tied to this process.
func Start(ctx context.Context, profile devcluster.Profile) (*Env, error) {
	bin, err := devcluster.FindBinDir(os.Getenv(devcluster.BinDirEnv))
	if err != nil {
		return nil, err
	}
	c, err := devcluster.Start(ctx, devcluster.Options{Profile: profile, BinDir: bin})
	if err != nil {
		return nil, err
	}
	cfg, err := c.RESTConfig()
	if err != nil {
		_ = c.Stop()
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		_ = c.Stop()
		return nil, fmt.Errorf("client: %w", err)
	}
	return &Env{Cluster: c, Config: cfg, Client: cs}, nil
}

var notDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// Namespace creates a namespace named after the test and removes it when
// the test ends.
func (e *Env) Namespace(t testing.TB) string {
	t.Helper()
	base := strings.Trim(notDNS.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(base) > 40 {
		base = base[:40]
	}
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	name := strings.Trim(base, "-") + "-" + hex.EncodeToString(suffix)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := e.Client.CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// Without kube-controller-manager (api profile) the namespace stays
		// Terminating; the control plane is thrown away after the package.
		_ = e.Client.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
	})
	return name
}

// Eventually polls cond every interval until it returns true or timeout
// passes, then fails the test with the last error cond reported.
func Eventually(t testing.TB, timeout time.Duration, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ok, err := cond()
		if ok {
			return
		}
		last = err
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s (last error: %v)", timeout, last)
		}
		time.Sleep(100 * time.Millisecond) // poll interval, not synchronisation
	}
}
