package chartrepo

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Defaults for Options' zero fields.
const (
	// DefaultMaxArchiveBytes bounds a downloaded .tgz. Real charts are
	// kilobytes to a few MiB (CRD-heavy ones); 20 MiB leaves room.
	DefaultMaxArchiveBytes = 20 << 20
	// DefaultMaxChartBytes bounds an archive decompressed, as Helm's
	// loader does (archive.MaxDecompressedChartSize).
	DefaultMaxChartBytes = 100 << 20
	// DefaultMaxIndexBytes bounds an index.yaml. Large public
	// repositories serve 10–30 MiB.
	DefaultMaxIndexBytes = 50 << 20
	// DefaultTimeout bounds each request, body included.
	DefaultTimeout = 60 * time.Second
	// DefaultIndexTTL is how long an index.yaml, an OCI tag list or an
	// OCI tag's digest is reused.
	DefaultIndexTTL = time.Minute
	// DefaultCacheBytes bounds the archive cache.
	DefaultCacheBytes = 256 << 20
)

// Options configure a Client; the zero value takes every default.
type Options struct {
	// MaxArchiveBytes bounds an archive download: reading stops there.
	MaxArchiveBytes int64
	// MaxChartBytes bounds an archive's decompressed size.
	MaxChartBytes int64
	// MaxIndexBytes bounds an index.yaml download.
	MaxIndexBytes int64
	// Timeout bounds each request (connect, headers and body).
	Timeout time.Duration
	// IndexTTL is how long resolved metadata is reused; negative disables
	// that caching.
	IndexTTL time.Duration
	// CacheBytes bounds the archive cache; negative disables it.
	CacheBytes int64
	// Transport is the base for every connection (proxy, dial settings);
	// each Auth's CA and client certificate are applied to a clone. nil
	// is a transport with timeouts on every phase.
	Transport *http.Transport
	// Now is the clock for the caches; nil is time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.MaxArchiveBytes <= 0 {
		o.MaxArchiveBytes = DefaultMaxArchiveBytes
	}
	if o.MaxChartBytes <= 0 {
		o.MaxChartBytes = DefaultMaxChartBytes
	}
	if o.MaxIndexBytes <= 0 {
		o.MaxIndexBytes = DefaultMaxIndexBytes
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.IndexTTL == 0 {
		o.IndexTTL = DefaultIndexTTL
	}
	if o.CacheBytes == 0 {
		o.CacheBytes = DefaultCacheBytes
	}
	if o.Transport == nil {
		o.Transport = defaultTransport()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Client fetches charts. It is safe for concurrent use and meant to live
// as long as the process: its caches and connections are shared by every
// Fetch.
type Client struct {
	opts Options

	indexes  *ttlCache[*indexFile] // key: index URL + identity
	tags     *ttlCache[[]string]   // key: OCI repository + identity
	layers   *ttlCache[ociLayer]   // key: OCI repository:tag + identity
	digests  *ttlCache[string]     // key: chart URL + identity, for indexes without digests
	archives *archiveCache
	flight   singleflight.Group

	mu         sync.Mutex // guards transports
	transports map[string]*http.Transport
}

// NewClient makes a Client.
func NewClient(opts Options) *Client {
	o := opts.withDefaults()
	cacheBytes := o.CacheBytes
	if cacheBytes < 0 {
		cacheBytes = 0
	}
	return &Client{
		opts:       o,
		indexes:    newTTLCache[*indexFile](o.IndexTTL, o.Now),
		tags:       newTTLCache[[]string](o.IndexTTL, o.Now),
		layers:     newTTLCache[ociLayer](o.IndexTTL, o.Now),
		digests:    newTTLCache[string](o.IndexTTL, o.Now),
		archives:   newArchiveCache(cacheBytes),
		transports: map[string]*http.Transport{},
	}
}

// Request names a chart to fetch.
type Request struct {
	// RepoURL is an HTTP(S) repository (https://charts.example.com) or an
	// OCI repository: oci://registry/path with Chart set, or the chart's
	// full reference oci://registry/path/name with Chart empty (a
	// ":version" tag on it stands for Version).
	RepoURL string
	// Chart is the chart's name. An "oci://…" Chart with an empty RepoURL
	// is taken as the full reference, as `--chart oci://…` gives it.
	Chart string
	// Version is an exact version, a Helm semver range (">=6.12.0 <6.14.1",
	// "^6", "~6.13"), or "" for the newest stable; the highest match wins.
	Version string
	// Auth reaches the repository.
	Auth Auth
}

// Fetch resolves req's version and returns the verified archive.
// Concurrent Fetches of the same thing share one download.
func (c *Client) Fetch(ctx context.Context, req Request) (*Archive, error) {
	if req.RepoURL == "" && strings.HasPrefix(req.Chart, "oci://") {
		req.RepoURL, req.Chart = req.Chart, ""
	}
	switch {
	case strings.HasPrefix(req.RepoURL, "oci://"):
		return c.fetchOCI(ctx, req)
	case strings.HasPrefix(req.RepoURL, "https://"), strings.HasPrefix(req.RepoURL, "http://"):
		if req.Chart == "" {
			return nil, errorf(ErrInvalid, "chart repository %s: no chart name given", redact(req.RepoURL))
		}
		return c.fetchHTTP(ctx, req)
	case req.RepoURL == "":
		return nil, errorf(ErrInvalid, "chart %q: no repository URL given", req.Chart)
	default:
		return nil, errorf(ErrInvalid, "chart repository %s: URL scheme must be https://, http:// or oci://", redact(req.RepoURL))
	}
}

// CacheStats reports the archives cached and their total size.
func (c *Client) CacheStats() (archives int, bytes int64) { return c.archives.stats() }

// transport returns the shared transport for a's TLS settings, so
// connections are reused across Fetches.
func (c *Client) transport(a Auth) (*http.Transport, error) {
	key := a.tlsIdentity()
	c.mu.Lock()
	defer c.mu.Unlock()
	if tr, ok := c.transports[key]; ok {
		return tr, nil
	}
	tr, err := buildTransport(c.opts.Transport, a)
	if err != nil {
		return nil, err
	}
	c.transports[key] = tr
	return tr, nil
}

// shared runs fn once for all concurrent callers with the same key. fn
// runs detached from any one caller's cancellation (its requests have
// their own timeout); each caller still returns when its ctx ends.
func shared[V any](ctx context.Context, g *singleflight.Group, key string, fn func(context.Context) (V, error)) (V, error) {
	ch := g.DoChan(key, func() (any, error) {
		return fn(context.WithoutCancel(ctx))
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			var zero V
			return zero, r.Err
		}
		return r.Val.(V), nil
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}
