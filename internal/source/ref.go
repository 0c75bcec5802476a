package source

import (
	"encoding/hex"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Ref says which commit of a repository to fetch. At most one field is set;
// the zero Ref means the branch the remote's HEAD points to.
type Ref struct {
	// Branch is a branch name ("main"; "refs/heads/main" is accepted too).
	Branch string
	// Tag is a tag name ("v1.2.0"); annotated tags resolve to their commit.
	Tag string
	// SemVer is a Masterminds/semver constraint (">=1.2.0 <2.0.0") matched
	// against tag names; the highest matching version wins. Pre-releases
	// match only when the constraint itself names one.
	SemVer string
	// Commit is a full 40-hex commit SHA. It must be reachable from a
	// branch or tag of the remote, or have been fetched before.
	Commit string
	// Name is a branch or tag name given without saying which (the CLI's
	// bare form). It is an error if the remote has both a branch and a tag
	// of that name.
	Name string
}

// ParseRef reads the CLI form of a ref: "branch:<name>", "tag:<name>",
// "semver:<constraint>", "commit:<sha>", a bare 40-hex SHA (a commit), a
// bare name (a branch or tag), or "" / "HEAD" (the remote's default branch).
func ParseRef(s string) (Ref, error) {
	s = strings.TrimSpace(s)
	var r Ref
	if kind, value, ok := strings.Cut(s, ":"); ok {
		field := map[string]*string{"branch": &r.Branch, "tag": &r.Tag, "semver": &r.SemVer, "commit": &r.Commit}[kind]
		if field != nil {
			if value == "" {
				return Ref{}, newError(ErrInvalid, nil, nil, "ref %q names no %s", s, kind)
			}
			*field = value
			if err := r.Validate(); err != nil {
				return Ref{}, err
			}
			return r.normalize(), nil
		}
	}
	switch {
	case s == "" || s == "HEAD":
	case isFullSHA(s):
		r.Commit = s
	default:
		r.Name = s
	}
	if err := r.Validate(); err != nil {
		return Ref{}, err
	}
	return r.normalize(), nil
}

// String is the inverse of ParseRef; it is how refs appear in errors.
func (r Ref) String() string {
	switch {
	case r.Branch != "":
		return "branch:" + r.Branch
	case r.Tag != "":
		return "tag:" + r.Tag
	case r.SemVer != "":
		return "semver:" + r.SemVer
	case r.Commit != "":
		return "commit:" + r.Commit
	case r.Name != "":
		return r.Name
	default:
		return "HEAD"
	}
}

// IsZero reports whether r means the remote's default branch.
func (r Ref) IsZero() bool { return r == Ref{} }

// Validate checks that at most one field is set and that it is well formed.
// The error wraps ErrInvalid.
func (r Ref) Validate() error {
	set := 0
	for _, v := range []string{r.Branch, r.Tag, r.SemVer, r.Commit, r.Name} {
		if v != "" {
			set++
		}
	}
	if set > 1 {
		return newError(ErrInvalid, nil, nil, "ref %+v sets more than one of branch, tag, semver, commit, name", r)
	}
	switch {
	case r.Branch != "":
		return checkRefName("branch", strings.TrimPrefix(r.Branch, "refs/heads/"))
	case r.Tag != "":
		return checkRefName("tag", strings.TrimPrefix(r.Tag, "refs/tags/"))
	case r.Name != "":
		return checkRefName("ref", r.Name)
	case r.SemVer != "":
		if _, err := semver.NewConstraint(r.SemVer); err != nil {
			return newError(ErrInvalid, err, nil, "invalid semver constraint %q", r.SemVer)
		}
	case r.Commit != "":
		if !isFullSHA(r.Commit) {
			return newError(ErrInvalid, nil, nil, "commit %q is not a full 40-hex SHA", r.Commit)
		}
	}
	return nil
}

// normalize strips the refs/ prefixes and lower-cases SHAs so that equal
// refs compare equal.
func (r Ref) normalize() Ref {
	r.Branch = strings.TrimPrefix(r.Branch, "refs/heads/")
	r.Tag = strings.TrimPrefix(r.Tag, "refs/tags/")
	r.Commit = strings.ToLower(r.Commit)
	return r
}

// checkRefName applies the parts of git-check-ref-format(1) that matter for
// names we put into refspecs: a bad name must fail here, not as a confusing
// transport error.
func checkRefName(kind, name string) error {
	bad := name == "" || name == "@" ||
		strings.HasPrefix(name, "-") || strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") ||
		strings.HasSuffix(name, ".") || strings.HasSuffix(name, ".lock") ||
		strings.Contains(name, "..") || strings.Contains(name, "//") || strings.Contains(name, "@{") ||
		strings.ContainsAny(name, " ~^:?*[\\\x7f")
	for _, c := range name {
		if c < 0x20 {
			bad = true
		}
	}
	if bad {
		return newError(ErrInvalid, nil, nil, "invalid %s name %q", kind, name)
	}
	return nil
}

func isFullSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// shortSHA is for messages only.
func shortSHA(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
