package source

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	git "github.com/go-git/go-git/v5"
)

// transportKind is how a repository is reached.
type transportKind int

const (
	kindLocal transportKind = iota // a path or file:// URL, opened in place
	kindHTTP                       // http:// or https://
	kindSSH                        // ssh:// or scp-style user@host:path
)

// location is a parsed repository URL.
type location struct {
	kind transportKind
	// raw is what go-git is given: the URL without userinfo password for
	// http(s) (credentials travel in the auth method), or the local path.
	raw string
	// display is safe to print: no password, no http userinfo at all.
	display string
	// key identifies the cache clone; equal for URLs that differ only in
	// case of scheme/host, credentials or a trailing slash.
	key string
	// path is the filesystem path for kindLocal.
	path string
	// user and password come from the URL's userinfo, if any.
	user, password string
	// hostPort is "host:port" for ssh, as known_hosts sees it.
	hostPort string
}

// scpLike matches "user@host:path" and "host:path" (git's scp syntax); a
// slash before the colon makes it a local path instead, as in git.
var scpLike = regexp.MustCompile(`^(?:([^@/]+)@)?([^:/]+):(.*)$`)

// parseLocation accepts local paths, file://, http(s)://, ssh:// and
// scp-style URLs. Other schemes (git://, ftp://) are refused: git:// has
// neither encryption nor authentication.
func parseLocation(raw string) (*location, error) {
	if raw == "" {
		return nil, newError(ErrInvalid, nil, nil, "empty repository URL")
	}
	if !strings.Contains(raw, "://") {
		if m := scpLike.FindStringSubmatch(raw); m != nil && !filepath.IsAbs(raw) && !strings.HasPrefix(raw, ".") && len(m[2]) > 1 {
			user := m[1]
			if user == "" {
				user = "git"
			}
			return &location{
				kind:     kindSSH,
				raw:      raw,
				display:  raw,
				key:      "scp://" + user + "@" + strings.ToLower(m[2]) + ":" + strings.TrimSuffix(m[3], "/"),
				user:     m[1],
				hostPort: m[2] + ":22",
			}, nil
		}
		abs, err := filepath.Abs(raw)
		if err != nil {
			return nil, newError(ErrInvalid, err, nil, "bad local repository path %q", raw)
		}
		return &location{kind: kindLocal, raw: abs, display: raw, key: "file://" + abs, path: abs}, nil
	}

	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse echoes the input, which may hold a password.
		return nil, newError(ErrInvalid, nil, nil, "repository URL %q cannot be parsed", redactUnparsable(raw))
	}
	loc := &location{}
	if u.User != nil {
		loc.user = u.User.Username()
		loc.password, _ = u.User.Password()
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Host)
	path := strings.TrimSuffix(u.Path, "/")
	switch scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, newError(ErrInvalid, nil, nil, "file URL %q names a host", raw)
		}
		loc.kind, loc.path, loc.raw, loc.display = kindLocal, filepath.Clean(u.Path), filepath.Clean(u.Path), raw
		loc.key = "file://" + loc.path
		return loc, nil
	case "http", "https":
		loc.kind = kindHTTP
		clean := *u
		clean.User = nil
		loc.raw = clean.String()
		loc.display = loc.raw
		loc.key = scheme + "://" + host + path
	case "ssh":
		loc.kind = kindSSH
		clean := *u
		if loc.user != "" {
			clean.User = url.User(loc.user)
		}
		loc.raw = clean.String()
		loc.display = loc.raw
		port := u.Port()
		if port == "" {
			port = "22"
		}
		loc.hostPort = u.Hostname() + ":" + port
		user := loc.user
		if user == "" {
			user = "git"
		}
		loc.key = "ssh://" + user + "@" + host + path
	default:
		clean := *u
		clean.User = nil
		return nil, newError(ErrInvalid, nil, nil, "unsupported scheme %q in %s (use https, ssh, file or a path)", u.Scheme, clean.String())
	}
	if u.Host == "" {
		return nil, newError(ErrInvalid, nil, nil, "repository URL %s has no host", loc.display)
	}
	return loc, nil
}

// cacheDirName is the cache clone's directory name for this location.
func (l *location) cacheDirName() string {
	sum := sha256.Sum256([]byte(l.key))
	return hex.EncodeToString(sum[:16])
}

// redactUnparsable drops anything between "://" and the last "@" of a URL
// that url.Parse rejected, so a malformed URL cannot leak its password.
func redactUnparsable(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw
	}
	rest := raw[i+3:]
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		return raw[:i+3] + "***@" + rest[at+1:]
	}
	return raw
}

// IsLocalDir reports whether s names a local directory that is NOT a Git
// repository (neither a work tree with .git nor a bare repository). Such
// directories are not the Fetcher's business: the caller renders them in
// place. Local Git repositories, by path or file:// URL, go through
// [Fetcher.Fetch] like any remote.
func IsLocalDir(s string) bool {
	loc, err := parseLocation(s)
	if err != nil || loc.kind != kindLocal {
		return false
	}
	fi, err := os.Stat(loc.path)
	if err != nil || !fi.IsDir() {
		return false
	}
	_, err = git.PlainOpenWithOptions(loc.path, &git.PlainOpenOptions{DetectDotGit: false})
	return errors.Is(err, git.ErrRepositoryNotExists)
}
