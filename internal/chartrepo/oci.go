package chartrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Media types of a Helm chart stored as an OCI artifact (Helm's
// pkg/registry constants).
const (
	ConfigMediaType           = "application/vnd.cncf.helm.config.v1+json"
	ChartLayerMediaType       = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
	legacyChartLayerMediaType = "application/tar+gzip"
)

// ociLayer is what a chart's tag resolved to.
type ociLayer struct {
	version string
	digest  string
	size    int64
}

// ociRef splits a request into the registry repository and chart name,
// with a version carried by a ":tag" on the reference.
func ociRef(req Request) (repoPath, chartName, version string, err error) {
	ref := strings.TrimSuffix(strings.TrimPrefix(req.RepoURL, "oci://"), "/")
	version = req.Version
	if req.Chart != "" {
		if strings.ContainsAny(req.Chart, "/:@") {
			return "", "", "", errorf(ErrInvalid, "chart %q: a chart name in an OCI repository is one path element", req.Chart)
		}
		ref += "/" + req.Chart
	}
	if strings.Contains(ref, "@") {
		return "", "", "", errorf(ErrInvalid, "chart oci://%s: pin OCI charts by version, not by digest", ref)
	}
	last := ref[strings.LastIndexByte(ref, '/')+1:]
	if n, tag, ok := strings.Cut(last, ":"); ok {
		tag = strings.ReplaceAll(tag, "_", "+")
		if version != "" && version != tag {
			return "", "", "", errorf(ErrInvalid, "chart oci://%s: version %q differs from the reference's tag %q", ref, version, tag)
		}
		ref, last, version = ref[:len(ref)-len(last)]+n, n, tag
	}
	if !strings.Contains(ref, "/") || last == "" {
		return "", "", "", errorf(ErrInvalid, "chart oci://%s: want oci://HOST/PATH/NAME, or oci://HOST/PATH and a chart name", ref)
	}
	return ref, last, version, nil
}

// fetchOCI resolves req's version among the repository's tags and pulls
// the chart layer.
func (c *Client) fetchOCI(ctx context.Context, req Request) (*Archive, error) {
	refStr, chartName, version, err := ociRef(req)
	if err != nil {
		return nil, err
	}
	shown := "oci://" + refStr
	host, path, _ := strings.Cut(refStr, "/")
	var nopts []name.Option
	if req.Auth.PlainHTTP {
		nopts = append(nopts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, nopts...)
	if err != nil {
		return nil, errorf(ErrInvalid, "chart %s: registry %q: %v", shown, host, err)
	}
	repo := reg.Repo(path)
	if _, err := name.NewRepository(host+"/"+path, nopts...); err != nil {
		return nil, errorf(ErrInvalid, "chart %s: %v", shown, err)
	}
	id := req.Auth.identity()
	scope := "oci|" + repo.String() + "|" + id + "|"

	// An exact version is a tag: no listing (one request fewer per
	// Application, and tag listing may be denied). Anything else lists
	// tags, as Helm does.
	if _, err := semver.StrictNewVersion(version); err != nil {
		tags, err := c.ociTags(ctx, repo, req.Auth, shown)
		if err != nil {
			return nil, err
		}
		v, found, err := resolveVersion(tags, version)
		if err != nil {
			return nil, errorf(ErrInvalid, "chart %s: version %q is neither a version nor a semver range: %v", shown, version, err)
		}
		if !found {
			return nil, errorf(ErrNotFound, "chart %s: no version matching %q (newest: %s)", shown, version, newest(tags, newestShown))
		}
		version = v
	}
	tag := repo.Tag(strings.ReplaceAll(version, "+", "_"))
	layer, err := c.ociLayer(ctx, tag, req.Auth, version, shown)
	if errors.Is(err, ErrNotFound) {
		msg := fmt.Sprintf("chart %s: version %q not found", shown, version)
		if tags, lerr := c.ociTags(ctx, repo, req.Auth, shown); lerr == nil {
			msg += fmt.Sprintf(" (newest: %s)", newest(tags, newestShown))
		}
		return nil, errorf(ErrNotFound, "%s", msg)
	}
	if err != nil {
		return nil, err
	}
	if a, ok := c.archives.get(scope + layer.digest); ok {
		return a, nil
	}
	what := fmt.Sprintf("chart %s %s", shown, version)
	if layer.size > c.opts.MaxArchiveBytes {
		return nil, errorf(ErrInvalid, "%s: chart layer is over the %d-byte limit (%d bytes)", what, c.opts.MaxArchiveBytes, layer.size)
	}
	return shared(ctx, &c.flight, "blob|"+scope+layer.digest, func(ctx context.Context) (*Archive, error) {
		// A flight that ended between the cache miss above and this one
		// has cached the archive: look again rather than download it twice.
		if a, ok := c.archives.get(scope + layer.digest); ok {
			return a, nil
		}
		d, err := v1.NewHash(layer.digest)
		if err != nil {
			return nil, errorf(ErrInvalid, "%s: chart layer digest %q: %v", what, layer.digest, err)
		}
		opts, cancel, err := c.remoteOptions(ctx, req.Auth)
		if err != nil {
			return nil, errorf(ErrInvalid, "%s: %v", what, err)
		}
		defer cancel()
		l, err := remote.Layer(repo.Digest(d.String()), opts...)
		if err != nil {
			return nil, c.ociError(ctx, what, err)
		}
		rc, err := l.Compressed()
		if err != nil {
			return nil, c.ociError(ctx, what, err)
		}
		defer rc.Close()
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, io.LimitReader(rc, c.opts.MaxArchiveBytes+1)); err != nil {
			return nil, c.ociError(ctx, what, err)
		}
		if int64(buf.Len()) > c.opts.MaxArchiveBytes {
			return nil, errorf(ErrInvalid, "%s: chart layer is over the %d-byte limit", what, c.opts.MaxArchiveBytes)
		}
		a, err := verified(buf.Bytes(), layer.digest, chartName, version, c.opts.MaxChartBytes, what)
		if err != nil {
			return nil, err
		}
		c.archives.put(scope+a.Digest, a)
		return a, nil
	})
}

// ociTags lists a repository's tags that are semver versions ("_" read
// as "+", as Helm writes them), cached for IndexTTL.
func (c *Client) ociTags(ctx context.Context, repo name.Repository, auth Auth, shown string) ([]string, error) {
	key := "tags|" + repo.String() + "|" + auth.identity()
	if tags, ok := c.tags.get(key); ok {
		return tags, nil
	}
	return shared(ctx, &c.flight, key, func(ctx context.Context) ([]string, error) {
		opts, cancel, err := c.remoteOptions(ctx, auth)
		if err != nil {
			return nil, errorf(ErrInvalid, "chart %s: %v", shown, err)
		}
		defer cancel()
		raw, err := remote.List(repo, opts...)
		if err != nil {
			err = c.ociError(ctx, "chart "+shown+": listing tags", err)
			if errors.Is(err, ErrNotFound) {
				return nil, errorf(ErrNotFound, "chart %s not found (the registry has no such repository)", shown)
			}
			return nil, err
		}
		var tags []string
		for _, t := range raw {
			v := strings.ReplaceAll(t, "_", "+")
			if _, err := semver.StrictNewVersion(v); err == nil {
				tags = append(tags, v)
			}
		}
		c.tags.put(key, tags)
		return tags, nil
	})
}

// ociLayer reads a tag's manifest and finds the chart layer, cached for
// IndexTTL (tags move; digests do not).
func (c *Client) ociLayer(ctx context.Context, tag name.Tag, auth Auth, version, shown string) (ociLayer, error) {
	key := "manifest|" + tag.String() + "|" + auth.identity()
	if l, ok := c.layers.get(key); ok {
		return l, nil
	}
	return shared(ctx, &c.flight, key, func(ctx context.Context) (ociLayer, error) {
		what := fmt.Sprintf("chart %s %s", shown, version)
		opts, cancel, err := c.remoteOptions(ctx, auth)
		if err != nil {
			return ociLayer{}, errorf(ErrInvalid, "%s: %v", what, err)
		}
		defer cancel()
		desc, err := remote.Get(tag, opts...)
		if err != nil {
			return ociLayer{}, c.ociError(ctx, what, err)
		}
		m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
		if err != nil {
			return ociLayer{}, errorf(ErrInvalid, "%s: manifest (%s) is not an image manifest: %v", what, desc.MediaType, err)
		}
		if m.Config.MediaType != ConfigMediaType {
			return ociLayer{}, errorf(ErrInvalid, "%s: not a Helm chart (config media type %q)", what, m.Config.MediaType)
		}
		for _, l := range m.Layers {
			if l.MediaType == ChartLayerMediaType || l.MediaType == legacyChartLayerMediaType {
				out := ociLayer{version: version, digest: l.Digest.String(), size: l.Size}
				c.layers.put(key, out)
				return out, nil
			}
		}
		return ociLayer{}, errorf(ErrInvalid, "%s: manifest has no layer of media type %s", what, ChartLayerMediaType)
	})
}

// remoteOptions are go-containerregistry's options for one operation,
// bounded by Timeout.
func (c *Client) remoteOptions(ctx context.Context, a Auth) ([]remote.Option, context.CancelFunc, error) {
	tr, err := c.transport(a)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	var auth authn.Authenticator = authn.Anonymous
	switch {
	case a.BearerToken != "":
		auth = authn.FromConfig(authn.AuthConfig{RegistryToken: a.BearerToken})
	case a.Username != "":
		auth = authn.FromConfig(authn.AuthConfig{Username: a.Username, Password: a.Password})
	}
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(tr),
		remote.WithAuth(auth),
		remote.WithUserAgent("cruise"),
	}, cancel, nil
}

// ociError maps a registry failure to an Error. Registry error bodies
// never echo credentials; request URLs are not shown.
func (c *Client) ociError(ctx context.Context, what string, err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		switch {
		case te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden:
			return errorf(ErrUnauthorized, "%s: unauthorized (HTTP %d)", what, te.StatusCode)
		case te.StatusCode == http.StatusNotFound:
			return errorf(ErrNotFound, "%s: not found", what)
		case te.StatusCode >= 500:
			return errorf(ErrUnreachable, "%s: registry error (HTTP %d)", what, te.StatusCode)
		}
		codes := make([]string, 0, len(te.Errors))
		for _, d := range te.Errors {
			codes = append(codes, string(d.Code))
		}
		return errorf(ErrInvalid, "%s: registry answered HTTP %d %s", what, te.StatusCode, strings.Join(codes, ","))
	}
	return transportError(ctx, what, c.opts.Timeout, err)
}
