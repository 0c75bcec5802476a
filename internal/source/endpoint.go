package source

import (
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

// Endpoint is a parsed repository URL with the go-git auth method for it,
// for packages that talk to a remote themselves (gitwrite pushes). It
// applies the same rules as Fetch: host keys always checked, no ssh-agent,
// credentials never in what is printed.
type Endpoint struct {
	// URL is what go-git is given: no password, credentials travel in Auth.
	// For a local repository it is the filesystem path.
	URL string
	// Display is safe to print.
	Display string
	// Local is true for a path or file:// URL.
	Local bool
	// Auth is nil for anonymous http(s) and local repositories.
	Auth transport.AuthMethod
	// Secrets are the values to scrub from any message about this remote.
	Secrets []string
}

// NewEndpoint parses rawURL and builds its auth method. timeout bounds the
// SSH TCP dial, which go-git does not tie to a context.
func NewEndpoint(rawURL string, a *Auth, timeout time.Duration) (*Endpoint, error) {
	loc, err := parseLocation(rawURL)
	if err != nil {
		return nil, err
	}
	auth, err := transportAuth(loc, a, false, timeout)
	if err != nil {
		return nil, err
	}
	ep := &Endpoint{URL: loc.raw, Display: loc.display, Local: loc.kind == kindLocal, Auth: auth}
	if ep.Local {
		ep.URL = loc.path
	}
	for _, s := range a.secrets(loc) {
		if s != "" {
			ep.Secrets = append(ep.Secrets, s)
		}
	}
	return ep, nil
}
