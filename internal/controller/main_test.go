package controller_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/controller"
	"github.com/cruisegitops/cruise/internal/devcluster"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
	"github.com/cruisegitops/cruise/internal/notify"
	"github.com/cruisegitops/cruise/internal/source"
)

var (
	env *clustertest.Env
	k8s client.Client
	// metricsRegistry holds the controller's own metrics.
	metricsRegistry *prometheus.Registry
	// gitCache is the controller's Fetcher.
	gitCache *source.Fetcher
	// notifications is the controller's Dispatcher; its messages link to
	// testServerURL.
	notifications *notify.Dispatcher
)

const testServerURL = "https://cruise.example.com"

// The test controller's sealing keys: in a namespace of their own, and
// rotated every few seconds, so that every SealedSecret test also runs
// while keys are added.
const (
	keysNamespace = "cruise-keys-test"
	keysRotation  = 4 * time.Second
)

func TestMain(m *testing.M) {
	os.Exit(clustertest.Main(m, devcluster.ProfileAPI, &env, startController))
}

// startController installs the CRDs and runs both reconcilers in this
// process against the shared control plane until the tests end.
func startController(ctx context.Context, e *clustertest.Env) error {
	ctrl.SetLogger(logr.Discard())
	if err := clustertest.InstallCRDs(ctx, e.Config); err != nil {
		return err
	}
	scheme, err := clustertest.Scheme()
	if err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(e.Config, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return err
	}
	cacheDir, err := os.MkdirTemp("", "cruise-controller-test-")
	if err != nil {
		return err
	}
	fetcher, err := source.NewFetcher(source.Options{CacheDir: cacheDir})
	if err != nil {
		return err
	}
	gitCache = fetcher
	metricsRegistry = prometheus.NewRegistry()
	m, err := controller.NewMetrics(metricsRegistry)
	if err != nil {
		return err
	}
	nm, err := notify.NewMetrics(metricsRegistry)
	if err != nil {
		return err
	}
	notifications = notify.NewDispatcher(notify.Options{
		ServerURL: testServerURL, Metrics: nm, MinBackoff: 50 * time.Millisecond, MaxBackoff: 2 * time.Second,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err = controller.Setup(mgr, controller.Options{
		Fetcher: fetcher, Metrics: m,
		Sealing:       &controller.SealingOptions{KeysNamespace: keysNamespace, RotationInterval: keysRotation},
		Notifications: notifications, AlertStatusInterval: 200 * time.Millisecond,
	}); err != nil {
		return err
	}
	k8s, err = client.New(e.Config, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	go func() {
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "manager stopped: %v\n", err)
		}
	}()
	return nil
}

// ready reports whether the object's Ready condition is True for its
// current generation.
func ready(conds []metav1.Condition, gen int64) bool {
	c := meta.FindStatusCondition(conds, cruisev1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == gen
}

// counter reads a counter of the controller's metrics.
func counter(t *testing.T, name string) float64 {
	t.Helper()
	families, err := metricsRegistry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}
