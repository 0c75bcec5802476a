package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/controller"
	"github.com/cruisegitops/cruise/internal/notify"
	"github.com/cruisegitops/cruise/internal/sealkeys"
	"github.com/cruisegitops/cruise/internal/source"
	"github.com/cruisegitops/cruise/internal/webhook"
)

// ControllerOptions configures `cruise controller`.
type ControllerOptions struct {
	// Kubeconfig and Context select the cluster when not running in it.
	Kubeconfig string
	Context    string
	// MetricsAddr serves Prometheus metrics; "0" turns them off.
	MetricsAddr string
	// HealthAddr serves /healthz and /readyz.
	HealthAddr string
	// WebhookAddr serves push webhooks at /hook/{github,gitlab,gitea,forgejo,generic}
	// on every replica, leader or not; "" turns them off.
	WebhookAddr string
	// WebhookSecretFile holds the secret the webhooks verify.
	WebhookSecretFile string
	// LeaderElect runs leader election, so only one replica acts.
	LeaderElect bool
	// LeaderElectionNamespace holds the Lease; default the pod's namespace.
	LeaderElectionNamespace string
	// LeaseDuration, RenewDeadline and RetryPeriod tune leader election:
	// a standby takes over at most LeaseDuration after the leader dies.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// CacheDir holds Git clones and checkouts.
	CacheDir string
	// StorageLimit bounds the disk CacheDir may use; a new revision that
	// would take it over is refused (see README, "Storage"). Keep it under
	// the volume's size: the install's emptyDir is 2Gi.
	StorageLimit byteSize
	// Concurrency is the number of Applications synced at once.
	Concurrency int
	// LogLevel is debug, info or error.
	LogLevel string
	// QPS and Burst limit the requests to the API server on the client
	// side; the server's priority and fairness protects it too.
	QPS   float32
	Burst int
	// KeyRotationInterval adds a sealing key when the newest is this old;
	// 0 never.
	KeyRotationInterval time.Duration
	// KeysNamespace holds the sealing keys Secret and the public-key
	// ConfigMap.
	KeysNamespace string
	// ServerURL is `cruise server`'s public URL (its --public-url):
	// notifications about an Application link to its page, diff and
	// history there. Empty: no links.
	ServerURL string
}

// defaultStorageLimit leaves a quarter of the install's 2Gi cache volume
// for what the limit cannot bound in advance: the packs of a fetch in
// progress, and one checkout being written when the limit is reached.
const defaultStorageLimit = 1536 << 20

func newControllerCommand() *cobra.Command {
	opts := &ControllerOptions{
		MetricsAddr:   ":8080",
		HealthAddr:    ":8081",
		Concurrency:   4,
		LogLevel:      "info",
		QPS:           500,
		Burst:         1000,
		LeaseDuration: 15 * time.Second,
		RenewDeadline: 10 * time.Second,
		RetryPeriod:   2 * time.Second,
		StorageLimit:  defaultStorageLimit,
		// Monthly: a leaked key exposes at most a month of new values.
		KeyRotationInterval: 720 * time.Hour,
		KeysNamespace:       sealkeys.DefaultNamespace,
	}
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Run the operator: fetch GitRepositories, keep Applications applied",
		Long: `Run cruise's operator. It fetches every GitRepository on its interval (or at
once when a push webhook arrives), applies each Application's path with
server-side apply, prunes what left Git, waits for health, and reverts changes
made in the cluster that Git does not describe within seconds. It unseals every
SealedSecret into its Secret with the cluster's sealing keys, which it creates
on first start and rotates every --key-rotation-interval. Alerts send what
happens (failures, recoveries, new revisions) to their Providers;
--server-url makes those messages link to cruise server.

Inside a cluster it uses its ServiceAccount; outside, --kubeconfig/--context
or $KUBECONFIG.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runController(cmd.Context(), opts) },
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: in-cluster config, else $KUBECONFIG)")
	fs.StringVar(&opts.Context, "context", "", "kubeconfig context")
	fs.StringVar(&opts.MetricsAddr, "metrics-addr", opts.MetricsAddr, `address of the metrics endpoint ("0" to disable)`)
	fs.StringVar(&opts.HealthAddr, "health-addr", opts.HealthAddr, "address of /healthz and /readyz")
	fs.StringVar(&opts.WebhookAddr, "webhook-addr", "", "address of the push webhook receiver, e.g. :9292 (off when empty)")
	fs.StringVar(&opts.WebhookSecretFile, "webhook-secret-file", "", "file with the secret push webhooks are verified with")
	fs.BoolVar(&opts.LeaderElect, "leader-elect", false, "elect a leader, so that of several replicas only one acts")
	fs.StringVar(&opts.LeaderElectionNamespace, "leader-election-namespace", "", "namespace of the leader Lease (default: the pod's)")
	fs.DurationVar(&opts.LeaseDuration, "leader-elect-lease-duration", opts.LeaseDuration, "how long a standby waits before taking over from a silent leader")
	fs.DurationVar(&opts.RenewDeadline, "leader-elect-renew-deadline", opts.RenewDeadline, "how long the leader tries to renew before giving up")
	fs.DurationVar(&opts.RetryPeriod, "leader-elect-retry-period", opts.RetryPeriod, "how often candidates try to acquire or renew the lease")
	fs.StringVar(&opts.CacheDir, "cache-dir", "", "directory for Git clones (default <user cache dir>/cruise/controller)")
	fs.Var(&opts.StorageLimit, "storage-limit", "disk the Git cache may use; new revisions that would take it over are refused (bytes or a quantity: 1536Mi, 10Gi)")
	fs.IntVar(&opts.Concurrency, "concurrency", opts.Concurrency, "Applications synced at once")
	fs.StringVar(&opts.LogLevel, "log-level", opts.LogLevel, "debug, info or error")
	fs.Float32Var(&opts.QPS, "kube-api-qps", opts.QPS, "requests per second to the API server (client-side limit)")
	fs.IntVar(&opts.Burst, "kube-api-burst", opts.Burst, "burst of requests to the API server above --kube-api-qps")
	fs.DurationVar(&opts.KeyRotationInterval, "key-rotation-interval", opts.KeyRotationInterval, "add a sealing key when the newest is this old (old keys keep unsealing, the newest seals); 0 never")
	fs.StringVar(&opts.KeysNamespace, "keys-namespace", opts.KeysNamespace, "namespace of the sealing keys Secret and the public-key ConfigMap")
	fs.StringVar(&opts.ServerURL, "server-url", "", "public URL of cruise server (its --public-url), for links in notifications")
	return cmd
}

func runController(ctx context.Context, o *ControllerOptions) error {
	logger, err := newLogger(o.LogLevel)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	ctrl.SetLogger(logger) // controller-runtime's own components log through it
	ctx = log.IntoContext(ctx, logger)

	if err := checkServerURL(o.ServerURL); err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	if err := o.validateSealing(); err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	cfg, err := controllerConfig(o)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	if o.CacheDir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		o.CacheDir = filepath.Join(cache, "cruise", "controller")
	}
	fetcher, err := source.NewFetcher(source.Options{CacheDir: o.CacheDir, StorageLimit: int64(o.StorageLimit)})
	if err != nil {
		return err
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := cruisev1.AddToScheme(scheme); err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsserver.Options{BindAddress: o.MetricsAddr},
		HealthProbeBindAddress:        o.HealthAddr,
		LeaderElection:                o.LeaderElect,
		LeaderElectionID:              "cruise-controller",
		LeaderElectionNamespace:       o.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &o.LeaseDuration,
		RenewDeadline:                 &o.RenewDeadline,
		RetryPeriod:                   &o.RetryPeriod,
		GracefulShutdownTimeout:       ptr.To(30 * time.Second),
		Logger:                        logger,
	})
	if err != nil {
		return fmt.Errorf("create manager: %w", err)
	}
	m, err := controller.NewMetrics(metrics.Registry)
	if err != nil {
		return fmt.Errorf("register metrics: %w", err)
	}
	nm, err := notify.NewMetrics(metrics.Registry)
	if err != nil {
		return fmt.Errorf("register notification metrics: %w", err)
	}
	notifications := notify.NewDispatcher(notify.Options{
		ServerURL: o.ServerURL, Metrics: nm, Logger: slog.New(logr.ToSlogHandler(logger.WithName("notify"))),
	})
	if err := controller.Setup(mgr, controller.Options{
		Fetcher: fetcher, Metrics: m, Concurrency: o.Concurrency,
		Sealing:       &controller.SealingOptions{KeysNamespace: o.KeysNamespace, RotationInterval: o.KeyRotationInterval},
		Notifications: notifications,
	}); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("cache", cacheSynced(mgr)); err != nil {
		return err
	}
	if o.WebhookAddr != "" {
		if err := addWebhookServer(ctx, mgr, o, logger); err != nil {
			return err
		}
	}
	logger.Info("starting controller", "version", version, "cacheDir", o.CacheDir, "storageLimit", o.StorageLimit.String())
	return mgr.Start(ctx)
}

func (o *ControllerOptions) validateSealing() error {
	if o.KeyRotationInterval < 0 {
		return fmt.Errorf("invalid --key-rotation-interval %s: use a positive duration, or 0 to never rotate", o.KeyRotationInterval)
	}
	if errs := validation.IsDNS1123Label(o.KeysNamespace); len(errs) > 0 {
		return fmt.Errorf("invalid --keys-namespace %q: %s", o.KeysNamespace, strings.Join(errs, "; "))
	}
	return nil
}

// cacheSynced is a readiness check: the manager's cache has started and
// synced, on every replica, leader or not.
func cacheSynced(mgr ctrl.Manager) healthz.Checker {
	return func(r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		if !mgr.GetCache().WaitForCacheSync(ctx) {
			return errors.New("cache not synced")
		}
		return nil
	}
}

// addWebhookServer serves push webhooks for every provider under one
// secret, on every replica: a verified push annotates the matching
// GitRepositories through the API server (webhook.Annotator) and the
// leader's reconciler fetches them, so whichever replica the Service
// picks answers. The replica is not ready until the server serves.
func addWebhookServer(ctx context.Context, mgr ctrl.Manager, o *ControllerOptions, logger logr.Logger) error {
	if o.WebhookSecretFile == "" {
		return &ExitError{Code: 2, Err: errors.New("--webhook-addr needs --webhook-secret-file")}
	}
	secret, err := os.ReadFile(o.WebhookSecretFile)
	switch {
	case errors.Is(err, os.ErrNotExist):
		// An optional Secret not created yet: serve, but refuse every
		// request (a receiver without a secret accepts nothing).
		logger.Info("webhook secret file missing: every webhook request will be refused", "file", o.WebhookSecretFile)
	case err != nil:
		return &ExitError{Code: 2, Err: fmt.Errorf("read webhook secret: %w", err)}
	}
	secret = trimNewline(secret)
	var receivers []webhook.Receiver
	for _, p := range []webhook.Provider{webhook.ProviderGitHub, webhook.ProviderGitLab, webhook.ProviderGitea, webhook.ProviderForgejo, webhook.ProviderGeneric} {
		receivers = append(receivers, webhook.Receiver{Name: string(p), Provider: p, Secret: secret})
	}
	// The Annotator lists GitRepositories from the cache. Its informer
	// would otherwise start with the leader's controllers only; asked for
	// now, it starts with the cache on every replica, and the manager
	// starts the server below once it has synced.
	if _, err := mgr.GetCache().GetInformer(ctx, &cruisev1.GitRepository{}); err != nil {
		return fmt.Errorf("GitRepository informer for webhooks: %w", err)
	}
	handler := webhook.NewHandler(webhook.NewStaticReceivers(receivers...), &webhook.Annotator{Client: mgr.GetClient()}, webhook.Options{
		Logger: slog.New(logr.ToSlogHandler(logger.WithName("webhook"))),
	})
	srv := &http.Server{Addr: o.WebhookAddr, Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}
	ln, err := net.Listen("tcp", o.WebhookAddr)
	if err != nil {
		return fmt.Errorf("listen for webhooks on %s: %w", o.WebhookAddr, err)
	}
	var serving atomic.Bool
	if err := mgr.AddReadyzCheck("webhook", func(*http.Request) error {
		if !serving.Load() {
			return errors.New("webhook server not started")
		}
		return nil
	}); err != nil {
		return err
	}
	return mgr.Add(everyReplica(func(ctx context.Context) error {
		go func() {
			<-ctx.Done()
			shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = srv.Shutdown(shutdown)
		}()
		serving.Store(true)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve webhooks on %s: %w", o.WebhookAddr, err)
		}
		return nil
	}))
}

// everyReplica is a manager Runnable that runs whether or not this
// replica leads. A Runnable that does not say so runs on the leader only.
type everyReplica func(context.Context) error

func (f everyReplica) Start(ctx context.Context) error { return f(ctx) }

// NeedLeaderElection implements manager.LeaderElectionRunnable.
func (everyReplica) NeedLeaderElection() bool { return false }

// controllerConfig prefers an explicit kubeconfig, then the in-cluster
// config, then $KUBECONFIG and ~/.kube/config.
func controllerConfig(o *ControllerOptions) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.Kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: o.Context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = o.QPS, o.Burst
	cfg.Timeout = 30 * time.Second
	return cfg, nil
}

func newLogger(level string) (logr.Logger, error) {
	var l slog.Level
	switch level {
	case "debug":
		l = slog.LevelDebug
	case "info":
		l = slog.LevelInfo
	case "error":
		l = slog.LevelError
	default:
		return logr.Logger{}, fmt.Errorf("invalid --log-level %q: want debug, info or error", level)
	}
	h := slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l})
	return logr.FromSlogHandler(h), nil
}

// checkServerURL accepts "" or an absolute http(s) URL without query or
// fragment (links are built by appending to it).
func checkServerURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("invalid --server-url %q: want the http(s) URL cruise server is reached at, e.g. https://cruise.example.com", s)
	}
	return nil
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
