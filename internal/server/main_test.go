package server_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/cruisegitops/cruise/config"
	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/controller"
	"github.com/cruisegitops/cruise/internal/devcluster"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
	"github.com/cruisegitops/cruise/internal/render"
	"github.com/cruisegitops/cruise/internal/source"
)

var (
	env *clustertest.Env
	k8s client.Client
)

func TestMain(m *testing.M) {
	os.Exit(clustertest.Main(m, devcluster.ProfileAPI, &env, setup))
}

// setup installs the CRDs and the server's shipped RBAC (config/server),
// and runs the operator in this process, so rollbacks are deployed.
func setup(ctx context.Context, e *clustertest.Env) error {
	ctrl.SetLogger(logr.Discard())
	if err := clustertest.InstallCRDs(ctx, e.Config); err != nil {
		return err
	}
	if err := installServerRBAC(ctx, e); err != nil {
		return err
	}
	scheme, err := clustertest.Scheme()
	if err != nil {
		return err
	}
	if k8s, err = client.New(e.Config, client.Options{Scheme: scheme}); err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(e.Config, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0"})
	if err != nil {
		return err
	}
	cacheDir, err := os.MkdirTemp("", "cruise-server-test-")
	if err != nil {
		return err
	}
	fetcher, err := source.NewFetcher(source.Options{CacheDir: cacheDir})
	if err != nil {
		return err
	}
	metrics, err := controller.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		return err
	}
	if err := controller.Setup(mgr, controller.Options{Fetcher: fetcher, Metrics: metrics}); err != nil {
		return err
	}
	go func() {
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "manager stopped: %v\n", err)
		}
	}()
	return nil
}

// installServerRBAC applies config/server's RBAC objects (not its
// Deployment: the server runs in the test process).
func installServerRBAC(ctx context.Context, e *clustertest.Env) error {
	c, err := client.New(e.Config, client.Options{})
	if err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "cruise-system"}}
	if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	res, err := render.RenderFS(ctx, config.FS, "config", render.Options{Path: "config/server"})
	if err != nil {
		return err
	}
	var objs []render.Object
	for _, o := range res.Objects {
		if o.GetKind() != "Deployment" && o.GetKind() != "Service" {
			objs = append(objs, o)
		}
	}
	eng, err := apply.NewEngine(e.Config, apply.EngineOptions{})
	if err != nil {
		return err
	}
	_, err = eng.Apply(ctx, objs, apply.ApplyOptions{Namespaces: apply.Namespaces{Default: "cruise-system"},
		Owner: apply.Owner{Name: "server-rbac", Namespace: "cruise-system"}})
	return err
}
