package webhook

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/internal/devcluster"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
)

// kube is the control plane of the tests that talk to Kubernetes
// (annotate_test.go). The first of them starts it, so that the handler's
// unit and fuzz tests run without one.
var kube struct {
	once   sync.Once
	env    *clustertest.Env
	client client.Client
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if kube.env != nil {
		if err := kube.env.Cluster.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stop control plane: %v\n", err)
			code = max(code, 1)
		}
	}
	os.Exit(code)
}

// cluster returns the shared control plane, with cruise's CRDs installed,
// and a client for it.
func cluster(t *testing.T) (*clustertest.Env, client.Client) {
	t.Helper()
	kube.once.Do(func() {
		ctx := context.Background()
		env, err := clustertest.Start(ctx, devcluster.ProfileAPI)
		if err != nil {
			kube.err = err
			return
		}
		kube.env = env
		if err := clustertest.InstallCRDs(ctx, env.Config); err != nil {
			kube.err = err
			return
		}
		scheme, err := clustertest.Scheme()
		if err != nil {
			kube.err = err
			return
		}
		kube.client, kube.err = client.New(env.Config, client.Options{Scheme: scheme})
	})
	if kube.err != nil {
		t.Fatalf("control plane: %v", kube.err)
	}
	return kube.env, kube.client
}
