package webhook

import "strings"

// NormalizeURL maps the spellings of one repository's clone URL to one key,
// "host/owner/repo", so that a push naming
//
//	https://github.com/Octo/App.git
//	git@github.com:octo/app.git
//	ssh://git@github.com:22/octo/app
//
// matches a GitRepository whose URL is any of them. It drops the scheme,
// user info, port, query, fragment, a trailing slash and the ".git"
// suffix, and lower-cases host and path.
//
// Lower-casing the path and dropping the port are deliberate
// over-approximations: GitHub, GitLab, Gitea and Forgejo resolve owner and
// repository names case-insensitively, and a forge's https and ssh
// endpoints often listen on different ports. A false match only costs one
// extra fetch; a missed match leaves the change to the poll interval.
//
// Scp-style URLs ("[user@]host:path") are recognized the way git does: a
// colon before the first slash. NormalizeURL never fails; it returns "" for
// an input without a host (empty, blank, a local path) and for every
// file:// URL, even file://localhost/...: the operator opens those in
// place on its own disk, and no forge's push names them. "" matches
// nothing ([Event.Matches]), so such a GitRepository is never triggered by
// a webhook, only polled. Applying NormalizeURL twice changes nothing.
func NormalizeURL(u string) string {
	host, path := splitHostPath(strings.TrimSpace(u))
	host = strings.ToLower(strings.TrimSpace(host))
	path = trimRepoPath(strings.ToLower(path))
	switch {
	case host == "":
		return ""
	case path == "":
		return host
	default:
		return host + "/" + path
	}
}

// splitHostPath separates the host (without user info and port) from the
// path of a URL, an scp-style address or a bare "host/path".
func splitHostPath(s string) (host, path string) {
	if i := strings.Index(s, "://"); i >= 0 && isScheme(s[:i]) {
		if strings.EqualFold(s[:i], "file") {
			return "", ""
		}
		rest := s[i+3:]
		if j := strings.IndexAny(rest, "?#"); j >= 0 {
			rest = rest[:j]
		}
		auth, p, _ := strings.Cut(rest, "/")
		return hostOnly(auth), p
	}
	if !strings.HasPrefix(s, "[") {
		colon, slash := strings.IndexByte(s, ':'), strings.IndexByte(s, '/')
		if colon >= 0 && (slash < 0 || colon < slash) {
			left := s[:colon]
			return left[strings.LastIndexByte(left, '@')+1:], s[colon+1:]
		}
	}
	auth, p, _ := strings.Cut(s, "/")
	return hostOnly(auth), p
}

// isScheme reports whether s is a URL scheme (RFC 3986 section 3.1:
// ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )).
func isScheme(s string) bool {
	for i, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// hostOnly strips "user[:password]@" and ":port" from a URL authority,
// keeping an IPv6 literal in its brackets.
func hostOnly(auth string) string {
	auth = auth[strings.LastIndexByte(auth, '@')+1:]
	if strings.HasPrefix(auth, "[") {
		if end := strings.IndexByte(auth, ']'); end >= 0 {
			return auth[:end+1]
		}
		return auth
	}
	host, _, _ := strings.Cut(auth, ":")
	return host
}

// trimRepoPath removes leading and trailing slashes and blanks and any
// ".git" suffix, until none is left, so that the result is stable.
func trimRepoPath(p string) string {
	for {
		q := strings.TrimSpace(strings.Trim(p, "/"))
		q = strings.TrimSuffix(q, ".git")
		if q == p {
			return p
		}
		p = q
	}
}
