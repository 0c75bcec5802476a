package source

import (
	"context"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

// Remote is one repository as cruise talks to it: the URL go-git is given,
// the auth method for it, and what may be printed about it. The Fetcher
// and every package that writes to Git (gitwrite) use the same rules
// through it: host keys always checked against known_hosts, no ssh-agent
// and no ~/.ssh, credentials never in a message, errors on one line and
// classified by this package's sentinels.
type Remote struct {
	loc     *location
	auth    transport.AuthMethod
	secrets secrets
	timeout time.Duration
}

// NewRemote parses rawURL (any form [Request.URL] accepts) and builds its
// auth method from a; nil means anonymous, or the URL's userinfo for
// http(s). timeout bounds each network step with the remote (go-git ties
// the SSH dial to no context, so it is bounded here); DefaultTimeout when
// zero. Errors wrap ErrInvalid, ErrAuth or ErrHostKey.
func NewRemote(rawURL string, a *Auth, timeout time.Duration) (*Remote, error) {
	loc, err := parseLocation(rawURL)
	if err != nil {
		return nil, err
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	auth, err := transportAuth(loc, a, false, timeout)
	if err != nil {
		return nil, err
	}
	return &Remote{loc: loc, auth: auth, secrets: a.secrets(loc), timeout: timeout}, nil
}

// URL is what go-git is given: without a password (credentials travel in
// Auth), and the filesystem path for a local repository.
func (r *Remote) URL() string { return r.loc.raw }

// String is the URL safe to print: no credentials.
func (r *Remote) String() string { return r.loc.display }

// Auth is the go-git auth method; nil for anonymous http(s) and for local
// repositories.
func (r *Remote) Auth() transport.AuthMethod { return r.auth }

// Timeout bounds one network step with the remote.
func (r *Remote) Timeout() time.Duration { return r.timeout }

// Errorf returns an error wrapping kind (a sentinel of this package or of
// the caller's, or nil) and cause (or nil) that reads
// "git: <format>[: <cause>]" on one line, with the remote's credentials
// replaced by "***" wherever the cause's text repeats them.
func (r *Remote) Errorf(kind, cause error, format string, args ...any) error {
	return newError(kind, cause, r.secrets, format, args...)
}

// Classify turns the error of a go-git operation with the remote into an
// error wrapping the sentinel that says what went wrong: ErrAuth,
// ErrHostKey, ErrUnreachable (also when ctx, the operation's context, ran
// out), ErrRepoNotFound or ErrRefNotFound (an empty repository). op says
// what was being done, as in "push to" or "fetch from"; it names errors no
// sentinel fits, which wrap only their cause. Errors made by this package
// (Errorf included) are returned as they are, and nil stays nil.
func (r *Remote) Classify(ctx context.Context, op string, err error) error {
	return classifyAs(ctx, op, err, r.loc, r.timeout, r.secrets)
}
