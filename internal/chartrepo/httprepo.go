package chartrepo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/Masterminds/semver/v3"
	"sigs.k8s.io/yaml"
)

// fetchHTTP resolves req against the repository's index.yaml and
// downloads the archive it lists.
func (c *Client) fetchHTTP(ctx context.Context, req Request) (*Archive, error) {
	base, err := url.Parse(req.RepoURL)
	if err != nil || base.Host == "" {
		return nil, errorf(ErrInvalid, "chart repository %s: not a URL", redact(req.RepoURL))
	}
	idx, err := c.index(ctx, base, req.Auth)
	if err != nil {
		return nil, err
	}
	repoName := redact(req.RepoURL)
	entries, ok := idx.Entries[req.Chart]
	if !ok || len(entries) == 0 {
		return nil, errorf(ErrNotFound, "chart %q not found in repository %s", req.Chart, repoName)
	}
	versions := make([]string, 0, len(entries))
	for _, e := range entries {
		versions = append(versions, e.Version)
	}
	v, found, err := resolveVersion(versions, req.Version)
	if err != nil {
		return nil, errorf(ErrInvalid, "chart %s: version %q is neither a version nor a semver range: %v", req.Chart, req.Version, err)
	}
	if !found {
		return nil, errorf(ErrNotFound, "chart %s: no version matching %q in repository %s (newest: %s)", req.Chart, req.Version, repoName, newest(versions, newestShown))
	}
	var cv *indexEntry
	for _, e := range entries {
		if e.Version == v {
			cv = e
			break
		}
	}
	if len(cv.URLs) == 0 {
		return nil, errorf(ErrInvalid, "chart %s %s: repository %s lists no URL for it", req.Chart, v, repoName)
	}
	chartURL, err := resolveChartURL(base, cv.URLs[0])
	if err != nil {
		return nil, errorf(ErrInvalid, "chart %s %s: repository %s lists an unusable URL: %v", req.Chart, v, repoName, err)
	}
	what := chartWhat(req.Chart, v, chartURL.String())
	want := ""
	if cv.Digest != "" {
		want = strings.ToLower(cv.Digest)
		if !strings.HasPrefix(want, "sha256:") {
			want = "sha256:" + want
		}
	}
	scope := "http|" + base.String() + "|" + req.Auth.identity() + "|"
	if want == "" {
		// Without a digest in the index the URL stands for the bytes for
		// as long as the index is trusted to.
		if d, ok := c.digests.get(scope + chartURL.String()); ok {
			want = d
		}
	}
	if want != "" {
		if a, ok := c.archives.get(scope + want); ok {
			return a, nil
		}
	}
	return shared(ctx, &c.flight, "archive|"+scope+chartURL.String(), func(ctx context.Context) (*Archive, error) {
		// A flight that ended between the cache miss above and this one
		// has cached the archive: look again rather than download it twice.
		known := want
		if known == "" {
			known, _ = c.digests.get(scope + chartURL.String())
		}
		if known != "" {
			if a, ok := c.archives.get(scope + known); ok {
				return a, nil
			}
		}
		// Credentials only go to the repository's own host, as Helm does
		// without --pass-credentials.
		sameHost := chartURL.Scheme == base.Scheme && chartURL.Host == base.Host
		data, err := c.get(ctx, chartURL, req.Auth, sameHost, c.opts.MaxArchiveBytes, what)
		if err != nil {
			return nil, err
		}
		a, err := verified(data, want, req.Chart, v, c.opts.MaxChartBytes, what)
		if err != nil {
			return nil, err
		}
		c.digests.put(scope+chartURL.String(), a.Digest)
		c.archives.put(scope+a.Digest, a)
		return a, nil
	})
}

// index returns the repository's parsed index.yaml, cached per URL and
// credential identity.
func (c *Client) index(ctx context.Context, base *url.URL, auth Auth) (*indexFile, error) {
	u := base.JoinPath("index.yaml")
	u.RawQuery = base.RawQuery
	key := "index|" + u.String() + "|" + auth.identity()
	if idx, ok := c.indexes.get(key); ok {
		return idx, nil
	}
	return shared(ctx, &c.flight, key, func(ctx context.Context) (*indexFile, error) {
		what := "chart repository " + redact(base.String()) + ": index.yaml"
		data, err := c.get(ctx, u, auth, true, c.opts.MaxIndexBytes, what)
		if err != nil {
			return nil, err
		}
		idx, err := parseIndex(data)
		if err != nil {
			return nil, errorf(ErrInvalid, "%s is malformed: %v", what, err)
		}
		c.indexes.put(key, idx)
		return idx, nil
	})
}

// indexFile is the part of an index.yaml a fetch needs. Helm's
// repo.IndexFile would do, but its package drags in Helm's plugin runtime
// (wazero), ORAS and the CLI environment; and holding only these fields
// keeps a cached index of a large repository small.
type indexFile struct {
	APIVersion string                   `json:"apiVersion"`
	Entries    map[string][]*indexEntry `json:"entries"`
}

type indexEntry struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	URLs    []string `json:"urls"`
	Digest  string   `json:"digest,omitempty"`
}

// parseIndex reads an index the way Helm's repo.LoadIndexFile does (JSON
// or YAML, apiVersion required, entries without a name or a semver
// version skipped), except that unknown fields are ignored rather than
// refused.
func parseIndex(data []byte) (*indexFile, error) {
	idx := &indexFile{}
	if len(data) == 0 {
		return nil, errors.New("empty")
	}
	var err error
	if json.Valid(data) {
		err = json.Unmarshal(data, idx)
	} else {
		err = yaml.Unmarshal(data, idx)
	}
	if err != nil {
		return nil, err
	}
	if idx.APIVersion == "" {
		return nil, errors.New("no apiVersion")
	}
	for name, entries := range idx.Entries {
		kept := entries[:0]
		for _, e := range entries {
			if e == nil || e.Name == "" {
				continue
			}
			if _, err := semver.NewVersion(e.Version); err != nil {
				continue
			}
			kept = append(kept, e)
		}
		idx.Entries[name] = kept
	}
	return idx, nil
}

// resolveChartURL resolves an index's chart URL against the repository
// URL as Helm's repo.ResolveReferenceURL does (the base is a directory).
func resolveChartURL(base *url.URL, ref string) (*url.URL, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return nil, err
	}
	if r.IsAbs() {
		if r.Scheme != "https" && r.Scheme != "http" {
			return nil, fmt.Errorf("scheme %q", r.Scheme)
		}
		return r, nil
	}
	b := *base
	b.Path = strings.TrimSuffix(b.Path, "/") + "/"
	if b.RawPath != "" {
		b.RawPath = strings.TrimSuffix(b.RawPath, "/") + "/"
	}
	out := b.ResolveReference(r)
	out.RawQuery = base.RawQuery
	return out, nil
}

// get downloads u, reading at most limit bytes. Credentials go only when
// withCreds; what names the download in errors.
func (c *Client) get(ctx context.Context, u *url.URL, auth Auth, withCreds bool, limit int64, what string) ([]byte, error) {
	tr, err := c.transport(auth)
	if err != nil {
		return nil, errorf(ErrInvalid, "%s: %v", what, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, errorf(ErrInvalid, "%s: %v", what, err)
	}
	if withCreds {
		switch {
		case auth.BearerToken != "":
			hreq.Header.Set("Authorization", "Bearer "+auth.BearerToken)
		case auth.Username != "":
			hreq.SetBasicAuth(auth.Username, auth.Password)
		}
	}
	hreq.Header.Set("User-Agent", "cruise")
	// http.Client drops Authorization on a redirect to another host.
	resp, err := (&http.Client{Transport: tr}).Do(hreq)
	if err != nil {
		return nil, transportError(ctx, what, c.opts.Timeout, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, errorf(ErrUnauthorized, "%s: unauthorized (HTTP %d)", what, resp.StatusCode)
	case resp.StatusCode == http.StatusNotFound:
		return nil, errorf(ErrNotFound, "%s: not found (HTTP 404)", what)
	case resp.StatusCode >= 500:
		return nil, errorf(ErrUnreachable, "%s: server error (HTTP %d)", what, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return nil, errorf(ErrInvalid, "%s: unexpected HTTP %d", what, resp.StatusCode)
	}
	if resp.ContentLength > limit {
		return nil, errorf(ErrInvalid, "%s: over the %d-byte limit (%d bytes)", what, limit, resp.ContentLength)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, transportError(ctx, what, c.opts.Timeout, err)
	}
	if int64(len(data)) > limit {
		return nil, errorf(ErrInvalid, "%s: over the %d-byte limit", what, limit)
	}
	return data, nil
}
