package gitwrite

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/cruisegitops/cruise/internal/source"
)

// remote is a parsed repository URL with what is needed to talk to it,
// built by internal/source so that pushes follow the same transport and
// host-key rules as fetches.
type remote struct {
	url     string // what go-git is given
	display string // safe to print
	auth    transport.AuthMethod
	secrets secrets
}

func newRemote(raw string, a *source.Auth) (*remote, error) {
	ep, err := source.NewEndpoint(raw, a, DefaultTimeout)
	if err != nil {
		// Keep source's message (it names the URL, scrubbed) and add our
		// kind, so errors.Is works with both packages' sentinels.
		for _, kind := range []error{ErrAuth, ErrInvalid, ErrUnreachable} {
			if errors.Is(err, errors.Unwrap(kind)) {
				return nil, newError(kind, nil, nil, "%s", err.Error())
			}
		}
		return nil, err
	}
	return &remote{url: ep.URL, display: ep.Display, auth: ep.Auth, secrets: secrets(ep.Secrets)}, nil
}

// classify maps a go-git or network error of one step ("fetch", "push")
// to an error wrapping the right sentinel.
func (r *remote) classify(ctx context.Context, step string, err error, timeout time.Duration) error {
	var we *writeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &we):
		return err
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return newError(ErrUnreachable, nil, r.secrets, "%s %s: no answer within %s", step, r.display, timeout)
	case errors.Is(err, context.Canceled):
		return newError(nil, err, r.secrets, "%s %s canceled", step, r.display)
	case errors.Is(err, transport.ErrAuthenticationRequired):
		return newError(ErrAuth, nil, r.secrets, "%s %s: authentication required", step, r.display)
	case errors.Is(err, transport.ErrAuthorizationFailed):
		return newError(ErrAuth, nil, r.secrets, "%s %s: authorization failed", step, r.display)
	case errors.Is(err, transport.ErrInvalidAuthMethod):
		return newError(ErrAuth, nil, r.secrets, "%s %s: credentials do not suit this URL", step, r.display)
	case strings.Contains(err.Error(), "ssh: unable to authenticate"):
		return newError(ErrAuth, err, r.secrets, "%s %s: ssh authentication failed", step, r.display)
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return newError(source.ErrRepoNotFound, nil, r.secrets, "%s %s: repository not found", step, r.display)
	case errors.Is(err, transport.ErrEmptyRemoteRepository):
		return newError(ErrRefNotFound, nil, r.secrets, "%s %s: repository is empty", step, r.display)
	case isNetError(err):
		return newError(ErrUnreachable, err, r.secrets, "%s %s", step, r.display)
	}
	return newError(nil, err, r.secrets, "%s %s failed", step, r.display)
}

func isNetError(err error) bool {
	var opErr *net.OpError
	var dnsErr *net.DNSError
	var urlErr *url.Error
	return errors.As(err, &opErr) || errors.As(err, &dnsErr) || errors.As(err, &urlErr) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}
