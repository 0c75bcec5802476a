package notify

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// commitStatus is what the git host types post for one event: on which
// commit, under which context (one per environment: the object's
// namespace and name), whether it is a success, and a short description.
type commitStatus struct {
	sha         string
	context     string
	success     bool
	description string
	targetURL   string
}

// shaPattern is a Git object name: SHA-1 or SHA-256, lowercase hex.
var shaPattern = regexp.MustCompile(`^(?:[0-9a-f]{40}|[0-9a-f]{64})$`)

// commitStatusOf decides what m posts: Synced and Recovered are a
// success, Failed and HealthDegraded a failure; other events post nothing
// (ok false). The commit is Event.Commit.SHA, else the SHA in
// Event.Revision ("<ref>@sha1:<hex>"); an event that should post but
// names no commit is a final error, since retrying will not find one.
func commitStatusOf(m Message, descLimit int) (st commitStatus, ok bool, err error) {
	e := m.Event
	switch e.Type {
	case Synced, Recovered:
		st.success = true
	case Failed, HealthDegraded:
	default:
		return commitStatus{}, false, nil
	}
	st.sha = eventSHA(e)
	if st.sha == "" {
		return commitStatus{}, false, fmt.Errorf("%s event of %s/%s/%s names no commit (revision %q): nothing to set a commit status on",
			e.Type, e.Object.Kind, e.Object.Namespace, e.Object.Name, e.Revision)
	}
	st.context = "cruise/" + e.Object.Namespace + "/" + e.Object.Name
	// The context already says cruise; the description is the subject
	// without the mail prefix, else the reason.
	desc := flattenSpace(strings.TrimPrefix(strings.TrimSpace(m.Subject), "[cruise]"))
	if desc == "" {
		desc = strings.TrimSpace(string(e.Type) + " " + e.Reason)
	}
	st.description = cutRunes(desc, descLimit)
	st.targetURL = e.URL
	return st, true, nil
}

// eventSHA finds the commit of an event, lowercased; "" when none.
func eventSHA(e Event) string {
	if e.Commit != nil {
		if sha := strings.ToLower(e.Commit.SHA); shaPattern.MatchString(sha) {
			return sha
		}
	}
	rev := e.Revision
	if i := strings.LastIndexByte(rev, '@'); i >= 0 {
		rev = rev[i+1:]
	}
	if _, hex, ok := strings.Cut(rev, ":"); ok {
		rev = hex
	}
	if sha := strings.ToLower(rev); shaPattern.MatchString(sha) {
		return sha
	}
	return ""
}

// repoURL is a git host address split into its parts: the scheme and
// host, and the path segments (without a trailing ".git").
type repoURL struct {
	base     string
	segments []string
}

// parseRepoURL checks a git host address: an http(s) URL with a host and
// a path, no credentials, query or fragment.
func parseRepoURL(typ, address string) (repoURL, error) {
	if address == "" {
		return repoURL{}, fmt.Errorf("%s: address is required: the repository's URL, e.g. https://host/owner/repo", typ)
	}
	u, err := url.Parse(address)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		// Not shown: an address that does not parse may hold anything.
		return repoURL{}, fmt.Errorf("%s: address is not an http(s) URL of a repository (https://host/owner/repo)", typ)
	}
	if u.User != nil {
		return repoURL{}, fmt.Errorf("%s: address must not carry user information; put the token in the Secret", typ)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return repoURL{}, fmt.Errorf("%s: address %q: a repository URL has no query or fragment", typ, u.Scheme+"://"+u.Host+u.Path)
	}
	var segs []string
	for _, s := range strings.Split(u.Path, "/") {
		switch s {
		case "":
		case ".", "..":
			return repoURL{}, fmt.Errorf("%s: address %q: a repository URL has no %q segment", typ, u.Scheme+"://"+u.Host+u.Path, s)
		default:
			segs = append(segs, s)
		}
	}
	if n := len(segs); n > 0 {
		segs[n-1] = strings.TrimSuffix(segs[n-1], ".git")
	}
	return repoURL{base: u.Scheme + "://" + u.Host, segments: segs}, nil
}

// apiIndex finds the segments api/<version> in r, -1 when absent: where
// an explicit API URL's base ends.
func (r repoURL) apiIndex(version string) int {
	for i := 0; i+1 < len(r.segments); i++ {
		if r.segments[i] == "api" && r.segments[i+1] == version {
			return i
		}
	}
	return -1
}

// prefix joins the first n segments as a path ("" or "/a/b").
func (r repoURL) prefix(n int) string {
	if n == 0 {
		return ""
	}
	return "/" + strings.Join(r.segments[:n], "/")
}

// errNoToken is the error of a git host Provider without a token.
func errNoToken(typ string) error {
	return fmt.Errorf("%s: the Secret's \"token\" key is required to set commit statuses", typ)
}

// sourcePath splits the repository path out of an event's source URL
// (https://host/org/repo.git, ssh://git@host/org/repo, git@host:org/repo),
// for a Provider whose address is only an API base URL.
func sourcePath(typ string, e Event) ([]string, error) {
	src := e.Source
	if src == "" {
		return nil, fmt.Errorf("%s: the address is an API base URL, and %s/%s/%s has no Git repository to take the repository from",
			typ, e.Object.Kind, e.Object.Namespace, e.Object.Name)
	}
	path := ""
	if u, err := url.Parse(src); err == nil && u.Scheme != "" && u.Host != "" {
		path = u.Path
	} else if at := strings.Index(src, "@"); at >= 0 {
		if _, p, ok := strings.Cut(src[at:], ":"); ok {
			path = p
		}
	}
	var segs []string
	for _, seg := range strings.Split(path, "/") {
		if seg != "" && seg != "." && seg != ".." {
			segs = append(segs, seg)
		}
	}
	if n := len(segs); n > 0 {
		segs[n-1] = strings.TrimSuffix(segs[n-1], ".git")
	}
	if len(segs) < 2 {
		return nil, fmt.Errorf("%s: cannot tell the repository from the Git URL of %s/%s/%s", typ, e.Object.Kind, e.Object.Namespace, e.Object.Name)
	}
	return segs, nil
}

// isAPIBase reports whether r is exactly an API base URL: its segments
// end with api/<version> and nothing follows.
func (r repoURL) isAPIBase(version string) bool {
	n := len(r.segments)
	return n >= 2 && r.segments[n-2] == "api" && r.segments[n-1] == version
}

// ownerRepo is the configured repository, or, for a Provider whose
// address is an API base URL, the last two segments of the event's source.
func ownerRepo(typ, owner, repo string, e Event) (string, string, error) {
	if owner != "" {
		return owner, repo, nil
	}
	segs, err := sourcePath(typ, e)
	if err != nil {
		return "", "", err
	}
	return segs[len(segs)-2], segs[len(segs)-1], nil
}
