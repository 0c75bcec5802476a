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
	cache map[string]cachedClient // guarded by mu
}

type cachedClient struct {
	c    client.WithWatch
	hc   *http.Client // the same transport, for raw list requests
	cfg  *rest.Config
	eng  *apply.Engine // built on first diff
	used time.Time
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
	return &clients{base: base, scheme: scheme, mapper: mapper, self: self, cache: map[string]cachedClient{}}, nil
}

// configFor is the server's rest.Config impersonating id.
func (c *clients) configFor(id Identity) *rest.Config {
	cfg := rest.CopyConfig(c.base)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: id.User, Groups: id.Groups}
	return cfg
}

// forIdentity returns a client impersonating id. An empty user is refused
// here as well as at authentication: without a user the request would run
// as the server itself.
func (c *clients) forIdentity(id Identity) (client.WithWatch, *rest.Config, error) {
	if id.User == "" {
		return nil, nil, newError(http.StatusUnauthorized, "unauthenticated", "no user to impersonate")
	}
	key := id.key()
	c.mu.Lock()
	if e, ok := c.cache[key]; ok {
		e.used = time.Now()
		c.cache[key] = e
		c.mu.Unlock()
		return e.c, e.cfg, nil
	}
	c.mu.Unlock()
	e, err := c.build(id)
	if err != nil {
		return nil, nil, err
	}
	return e.c, e.cfg, nil
}

// httpFor returns the impersonating HTTP client of id.
func (c *clients) httpFor(id Identity) (*http.Client, error) {
	if _, _, err := c.forIdentity(id); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.cache[id.key()]; ok {
		return e.hc, nil
	}
	e, err := c.buildLocked(id)
	return e.hc, err
}

func (c *clients) build(id Identity) (cachedClient, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buildLocked(id)
}

func (c *clients) buildLocked(id Identity) (cachedClient, error) {
	key := id.key()

	cfg := c.configFor(id)
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return cachedClient{}, err
	}
	cl, err := client.NewWithWatch(cfg, client.Options{Scheme: c.scheme, Mapper: c.mapper, HTTPClient: hc})
	if err != nil {
		return cachedClient{}, err
	}
	if len(c.cache) >= maxCachedClients {
		c.evictOldest()
	}
	e := cachedClient{c: cl, hc: hc, cfg: cfg, used: time.Now()}
	c.cache[key] = e
	return e, nil
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

// engineFor returns the apply engine (for diffs) impersonating id.
func (c *clients) engineFor(id Identity, cfg *rest.Config) (*apply.Engine, error) {
	key := id.key()
	c.mu.Lock()
	e, ok := c.cache[key]
	c.mu.Unlock()
	if ok && e.eng != nil {
		return e.eng, nil
	}
	eng, err := apply.NewEngine(cfg, apply.EngineOptions{})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if e, ok := c.cache[key]; ok {
		e.eng = eng
		c.cache[key] = e
	}
	c.mu.Unlock()
	return eng, nil
}
