package chartrepo

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
)

// maxDependencyDepth bounds how deep fetched subcharts' own missing
// dependencies are followed.
const maxDependencyDepth = 5

// FetchDependencies fetches every dependency ch's Chart.yaml names that
// charts/ does not hold, from the repository it names, and attaches it.
// A Chart.lock entry for the same name and repository pins the version
// when it satisfies Chart.yaml's constraint. creds gives a repository's
// Auth (nil creds is anonymous everywhere). "file://" dependencies must
// already be loaded (Helm's loader reads them from charts/); "@alias" and
// "alias:" repository names need Helm's repositories.yaml and are refused.
// Subcharts fetched are checked the same way in turn.
func (c *Client) FetchDependencies(ctx context.Context, ch *chart.Chart, creds func(repoURL string) (Auth, error)) error {
	return c.fetchDependencies(ctx, ch, creds, 0)
}

func (c *Client) fetchDependencies(ctx context.Context, ch *chart.Chart, creds func(string) (Auth, error), depth int) error {
	if ch.Metadata == nil {
		return errorf(ErrInvalid, "chart has no Chart.yaml metadata")
	}
	present := map[string]bool{}
	for _, sub := range ch.Dependencies() {
		if sub.Metadata != nil {
			present[sub.Metadata.Name] = true
		}
	}
	for _, dep := range ch.Metadata.Dependencies {
		if dep == nil || present[dep.Name] {
			continue
		}
		where := fmt.Sprintf("chart %s: dependency %s", ch.Metadata.Name, dep.Name)
		r := dep.Repository
		switch {
		case r == "":
			return errorf(ErrNotFound, "%s names no repository and is not in charts/", where)
		case strings.HasPrefix(r, "file://"):
			return errorf(ErrNotFound, "%s (repository %s) is not in charts/ or could not be loaded", where, r)
		case strings.HasPrefix(r, "@") || strings.HasPrefix(r, "alias:"):
			return errorf(ErrInvalid, "%s: repository %q is a name from Helm's repositories.yaml; use the repository's URL", where, r)
		case !strings.HasPrefix(r, "https://") && !strings.HasPrefix(r, "http://") && !strings.HasPrefix(r, "oci://"):
			return errorf(ErrInvalid, "%s: repository %s is not an https://, http://, oci:// or file:// URL", where, redact(r))
		}
		if depth >= maxDependencyDepth {
			return errorf(ErrInvalid, "%s: dependencies nest deeper than %d levels", where, maxDependencyDepth)
		}
		auth := Auth{}
		if creds != nil {
			var err error
			if auth, err = creds(r); err != nil {
				return fmt.Errorf("%s: credentials for repository %s: %w", where, redact(r), err)
			}
		}
		version := lockedVersion(ch.Lock, dep)
		req := Request{RepoURL: r, Chart: dep.Name, Version: version, Auth: auth}
		a, err := c.Fetch(ctx, req)
		if err != nil {
			return fmt.Errorf("%s %q from %s: %w", where, version, redact(r), err)
		}
		sub, err := loader.LoadArchive(bytes.NewReader(a.Data))
		if err != nil {
			return errorf(ErrInvalid, "%s %s from %s: %v", where, a.Version, redact(r), err)
		}
		if err := c.fetchDependencies(ctx, sub, creds, depth+1); err != nil {
			return err
		}
		ch.AddDependency(sub)
		present[dep.Name] = true
	}
	return nil
}

// lockedVersion is Chart.lock's version for dep when the lock names the
// same chart from the same repository and that version satisfies
// Chart.yaml's constraint (a lock out of date with Chart.yaml is not
// honoured, rather than refused as `helm dependency build` does);
// otherwise Chart.yaml's version.
func lockedVersion(lock *chart.Lock, dep *chart.Dependency) string {
	if lock == nil {
		return dep.Version
	}
	for _, l := range lock.Dependencies {
		if l == nil || l.Name != dep.Name || l.Repository != dep.Repository || l.Version == "" {
			continue
		}
		if dep.Version == "" || l.Version == dep.Version {
			return l.Version
		}
		c, err := semver.NewConstraint(dep.Version)
		v, verr := semver.NewVersion(l.Version)
		if err == nil && verr == nil && c.Check(v) {
			return l.Version
		}
	}
	return dep.Version
}
