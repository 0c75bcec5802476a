package chartrepo

import (
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// newestShown is how many available versions a "no such version" error
// lists.
const newestShown = 5

// resolveVersion picks what Helm picks (`helm pull --version`, repo.IndexFile.Get
// and registry.GetTagMatchingVersionOrConstraint): a version string equal
// to the request wins outright; otherwise the highest version satisfying
// the request as a Masterminds constraint, where "" is "*" (newest
// stable: constraints without a prerelease part skip prereleases).
// Versions that do not parse as semver are never matched by a constraint.
// versions need not be sorted. ok is false when nothing matches; err is
// set when the request is not a constraint at all.
func resolveVersion(versions []string, want string) (string, bool, error) {
	if want != "" {
		for _, v := range versions {
			if v == want {
				return v, true, nil
			}
		}
	}
	spec := want
	if spec == "" {
		spec = "*"
	}
	c, err := semver.NewConstraint(spec)
	if err != nil {
		return "", false, err
	}
	var best *semver.Version
	var bestRaw string
	for _, raw := range versions {
		v, err := semver.NewVersion(raw)
		if err != nil || !c.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(best) {
			best, bestRaw = v, raw
		}
	}
	return bestRaw, best != nil, nil
}

// newest lists up to n of versions, highest first (unparsable ones last),
// for error messages.
func newest(versions []string, n int) string {
	vs := append([]string(nil), versions...)
	sort.SliceStable(vs, func(i, j int) bool {
		a, errA := semver.NewVersion(vs[i])
		b, errB := semver.NewVersion(vs[j])
		switch {
		case errA != nil:
			return false
		case errB != nil:
			return true
		}
		return a.GreaterThan(b)
	})
	if len(vs) == 0 {
		return "none"
	}
	more := ""
	if len(vs) > n {
		vs, more = vs[:n], ", …"
	}
	return strings.Join(vs, ", ") + more
}
