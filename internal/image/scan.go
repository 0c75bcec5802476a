package image

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// DefaultExclusions are the tags of signatures, attestations and SBOMs
// (cosign's sha256-<digest>.sig and friends): never versions to deploy.
var DefaultExclusions = []string{`^.*\.sig$`, `^.*\.att$`, `^.*\.sbom$`}

// DefaultTagLimit bounds a scan when the spec sets no limit.
const DefaultTagLimit = 10000

// pageSize is asked of registries that page tag lists (ECR refuses more
// than 1,000).
const pageSize = 1000

// Scan is one listing of an image's tags.
type Scan struct {
	// Image is "host[:port]/path" without tag or digest.
	Image string
	// Insecure talks plain HTTP.
	Insecure bool
	// Auth answers the registry's challenges; nil is anonymous.
	Auth authn.Authenticator
	// Transport carries TLS settings (custom CA, client certificates); nil
	// is http.DefaultTransport's settings.
	Transport http.RoundTripper
	// Include, when set, keeps only matching tags.
	Include *regexp.Regexp
	// Exclude drops matching tags.
	Exclude []*regexp.Regexp
	// TagLimit stops listing once this many tags are kept.
	TagLimit int
	// MaxRetryWait caps how long one 429 answer may make the scan wait.
	MaxRetryWait time.Duration
}

// ScanResult is what a scan found.
type ScanResult struct {
	// Repository is the canonical repository name (index.docker.io/library/x).
	Repository string
	// Tags kept, in the registry's listing order.
	Tags []string
	// Truncated is true when TagLimit stopped the listing early.
	Truncated bool
	// Requests counts HTTP requests made, token exchanges and retries
	// included.
	Requests int64
}

// CompileExclusions compiles patterns, naming the first that does not
// parse; nil patterns mean DefaultExclusions.
func CompileExclusions(patterns []string) ([]*regexp.Regexp, error) {
	if patterns == nil {
		patterns = DefaultExclusions
	}
	out := make([]*regexp.Regexp, 0, len(patterns))
	for _, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("exclusion pattern %q: %w", p, err)
		}
		out = append(out, re)
	}
	return out, nil
}

// Repository parses an image name, refusing a tag or digest.
func Repository(image string, insecure bool) (name.Repository, error) {
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	repo, err := name.NewRepository(image, opts...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("image %q: %w", image, err)
	}
	return repo, nil
}

// Run lists the tags page by page, filtering each page as it arrives, and
// stops at the tag limit.
func (s Scan) Run(ctx context.Context) (ScanResult, error) {
	repo, err := Repository(s.Image, s.Insecure)
	if err != nil {
		return ScanResult{}, err
	}
	counter := &countingTransport{}
	opts := s.options(counter)
	res := ScanResult{Repository: repo.Name()}
	limit := s.TagLimit
	if limit <= 0 {
		limit = DefaultTagLimit
	}
	puller, err := remote.NewPuller(opts...)
	if err != nil {
		return res, err
	}
	lister, err := puller.Lister(ctx, repo)
	if err != nil {
		res.Requests = counter.n.Load()
		return res, s.explain(err)
	}
	for {
		page, err := lister.Next(ctx)
		if err != nil {
			res.Requests = counter.n.Load()
			return res, s.explain(err)
		}
		for _, tag := range page.Tags {
			if !s.keep(tag) {
				continue
			}
			if len(res.Tags) == limit {
				res.Truncated = true
				break
			}
			res.Tags = append(res.Tags, tag)
		}
		if res.Truncated || !lister.HasNext() {
			break
		}
	}
	res.Requests = counter.n.Load()
	return res, nil
}

func (s Scan) keep(tag string) bool {
	if s.Include != nil && !s.Include.MatchString(tag) {
		return false
	}
	for _, re := range s.Exclude {
		if re.MatchString(tag) {
			return false
		}
	}
	return true
}

func (s Scan) options(counter *countingTransport) []remote.Option {
	base := s.Transport
	if base == nil {
		base = remote.DefaultTransport
	}
	maxWait := s.MaxRetryWait
	if maxWait <= 0 {
		maxWait = time.Minute
	}
	counter.base = &retryAfterTransport{base: base, maxWait: maxWait}
	auth := s.Auth
	if auth == nil {
		auth = authn.Anonymous
	}
	return []remote.Option{
		remote.WithTransport(counter),
		remote.WithAuth(auth),
		remote.WithPageSize(pageSize),
		// 429s are retried below, by retryAfterTransport, which honours
		// Retry-After; go-containerregistry's own retry would not.
		remote.WithRetryStatusCodes(http.StatusRequestTimeout, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout),
		remote.WithUserAgent("cruise"),
	}
}

// Digest reads a tag's manifest digest with one HEAD request.
func (s Scan) Digest(ctx context.Context, tag string) (string, error) {
	ref, err := s.tagRef(tag)
	if err != nil {
		return "", err
	}
	desc, err := remote.Head(ref, append(s.options(&countingTransport{}), remote.WithContext(ctx))...)
	if err != nil {
		return "", s.explain(err)
	}
	return desc.Digest.String(), nil
}

// Created reads when a tag's image was built, from its config (for an
// index, from the first image in it): minimum age is measured from here.
func (s Scan) Created(ctx context.Context, tag string) (time.Time, error) {
	ref, err := s.tagRef(tag)
	if err != nil {
		return time.Time{}, err
	}
	opts := append(s.options(&countingTransport{}), remote.WithContext(ctx))
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return time.Time{}, s.explain(err)
	}
	var img v1.Image
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return time.Time{}, s.explain(err)
		}
		m, err := idx.IndexManifest()
		if err != nil {
			return time.Time{}, s.explain(err)
		}
		if len(m.Manifests) == 0 {
			return time.Time{}, fmt.Errorf("%s:%s is an empty index", s.Image, tag)
		}
		img, err = idx.Image(m.Manifests[0].Digest)
		if err != nil {
			return time.Time{}, s.explain(err)
		}
	} else if img, err = desc.Image(); err != nil {
		return time.Time{}, s.explain(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return time.Time{}, s.explain(err)
	}
	return cfg.Created.Time, nil
}

func (s Scan) tagRef(tag string) (name.Tag, error) {
	repo, err := Repository(s.Image, s.Insecure)
	if err != nil {
		return name.Tag{}, err
	}
	return repo.Tag(tag), nil
}

// Error kinds a scan reports, for conditions' reasons.
var (
	ErrUnreachable  = errors.New("registry unreachable")
	ErrUnauthorized = errors.New("registry refused the credentials")
	ErrNotFound     = errors.New("no such repository in the registry")
)

// explain classifies a registry error and names the registry host:port,
// so a condition message says where the problem is.
func (s Scan) explain(err error) error {
	host := s.Image
	if repo, perr := Repository(s.Image, s.Insecure); perr == nil {
		host = repo.RegistryStr()
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch terr.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%w: %s answered %d: %v", ErrUnauthorized, host, terr.StatusCode, err)
		case http.StatusNotFound:
			return fmt.Errorf("%w: %s has no %s: %v", ErrNotFound, host, s.Image, err)
		}
		return fmt.Errorf("registry %s answered %d: %w", host, terr.StatusCode, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("registry %s: %w", host, err)
	}
	return fmt.Errorf("%w: %s: %v", ErrUnreachable, host, err)
}

type countingTransport struct {
	base http.RoundTripper
	n    atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

// retryAfterTransport retries a 429 (Too Many Requests) after the time
// its Retry-After asks for (seconds or an HTTP date), or 1 s, 2 s, 4 s
// without one; a wait longer than maxWait gives up and returns the 429.
// Only requests without a body (GET, HEAD: all a scan makes) are retried.
type retryAfterTransport struct {
	base    http.RoundTripper
	maxWait time.Duration
	now     func() time.Time
}

const maxRateLimitRetries = 4

func (t *retryAfterTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		resp, err := t.base.RoundTrip(r)
		if err != nil || resp.StatusCode != http.StatusTooManyRequests || r.Body != nil || attempt == maxRateLimitRetries {
			return resp, err
		}
		wait := t.retryAfter(resp.Header.Get("Retry-After"), attempt)
		if wait > t.maxWait {
			return resp, nil
		}
		resp.Body.Close()
		timer := time.NewTimer(wait)
		select {
		case <-r.Context().Done():
			timer.Stop()
			return nil, r.Context().Err()
		case <-timer.C:
		}
	}
}

func (t *retryAfterTransport) retryAfter(h string, attempt int) time.Duration {
	if secs, err := strconv.Atoi(h); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if when, err := http.ParseTime(h); err == nil {
		now := time.Now
		if t.now != nil {
			now = t.now
		}
		if d := when.Sub(now()); d > 0 {
			return d
		}
		return 0
	}
	return time.Second << attempt
}

// Latest returns up to n tags from the end of the listing, last first:
// registries list in lexical or push order, so the end is the best guess
// at "newest" without reading every image.
func Latest(tags []string, n int) []string {
	out := make([]string, 0, n)
	for i := len(tags) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, tags[i])
	}
	return out
}

// Sorted returns a sorted copy, for stable status output.
func Sorted(tags []string) []string {
	out := append([]string(nil), tags...)
	sort.Strings(out)
	return out
}
