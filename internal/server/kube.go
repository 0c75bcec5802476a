package server

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/apply"
)

// clients hands out Kubernetes clients that impersonate one identity.
// Building one is cheap (the TLS transport and the REST mapper are
// shared), but the few hundred allocations add up under a busy UI, so a
// small cache keeps recent ones.
type clients struct {
	base   *rest.Config
	scheme *runtime.Scheme
	mapper meta.RESTMapper
	// self is the server's own client: it may only list Namespace names.
	self client.Client

	mu    sync.Mutex
	cache map[string]*cachedClient // guarded by mu
}

type cachedClient struct {
	c   client.WithWatch
	hc  *http.Client // the same transport, for raw list requests
	cfg *rest.Config

	engOnce sync.Once
	eng     *apply.Engine // built on first diff
	engErr  error

	used time.Time // guarded by clients.mu
}

const maxCachedClients = 512

func newScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

func newClients(cfg *rest.Config) (*clients, error) {
	scheme, err := newScheme()
	if err != nil {
		return nil, err
	}
	base := rest.CopyConfig(cfg)
	base.QPS, base.Burst = 200, 400
	// The API server gzips large lists when asked; for a server next to it
	// compressing and decompressing megabytes per page view costs more CPU
	// than the bytes on the wire.
	base.DisableCompression = true
	hc, err := rest.HTTPClientFor(base)
	if err != nil {
		return nil, fmt.Errorf("http client for %s: %w", base.Host, err)
	}
	mapper, err := apiutil.NewDynamicRESTMapper(base, hc)
	if err != nil {
		return nil, fmt.Errorf("discover APIs of %s: %w", base.Host, err)
	}
	self, err := client.New(base, client.Options{Scheme: scheme, Mapper: mapper, HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	return &clients{base: base, scheme: scheme, mapper: mapper, self: self, cache: map[string]*cachedClient{}}, nil
}

// configFor is the server's rest.Config impersonating id.
func (c *clients) configFor(id Identity) *rest.Config {
	cfg := rest.CopyConfig(c.base)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: id.User, Groups: id.Groups}
	return cfg
}

// entry returns the cached clients of id, building them on first use.
// An empty user is refused here as well as at authentication: without a
// user the request would run as the server itself.
func (c *clients) entry(id Identity) (*cachedClient, error) {
	if id.User == "" {
		return nil, newError(http.StatusUnauthorized, "unauthenticated", "no user to impersonate")
	}
	key := id.key()
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.cache[key]; ok {
		e.used = time.Now()
		return e, nil
	}
	cfg := c.configFor(id)
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	cl, err := client.NewWithWatch(cfg, client.Options{Scheme: c.scheme, Mapper: c.mapper, HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	if len(c.cache) >= maxCachedClients {
		c.evictOldest()
	}
	e := &cachedClient{c: cl, hc: hc, cfg: cfg, used: time.Now()}
	c.cache[key] = e
	return e, nil
}

// forIdentity returns a client impersonating id.
func (c *clients) forIdentity(id Identity) (client.WithWatch, error) {
	e, err := c.entry(id)
	if err != nil {
		return nil, err
	}
	return e.c, nil
}

// httpFor returns the impersonating HTTP client of id.
func (c *clients) httpFor(id Identity) (*http.Client, error) {
	e, err := c.entry(id)
	if err != nil {
		return nil, err
	}
	return e.hc, nil
}

// engineFor returns the apply engine (for diffs) impersonating id, built
// on first use: it reads API discovery, which lists need not.
func (c *clients) engineFor(id Identity) (*apply.Engine, error) {
	e, err := c.entry(id)
	if err != nil {
		return nil, err
	}
	e.engOnce.Do(func() { e.eng, e.engErr = apply.NewEngine(e.cfg, apply.EngineOptions{}) })
	return e.eng, e.engErr
}

func (c *clients) evictOldest() {
	var oldest string
	var at time.Time
	for k, e := range c.cache {
		if oldest == "" || e.used.Before(at) {
			oldest, at = k, e.used
		}
	}
	delete(c.cache, oldest)
}
