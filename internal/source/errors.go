package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

// Sentinel errors wrapped by every error this package returns, so that the
// controller can decide between retrying, stalling and reporting.
var (
	// ErrInvalid: the request itself is wrong (bad URL, bad ref, bad key).
	// Retrying will not help.
	ErrInvalid = errors.New("invalid request")
	// ErrRefNotFound: the branch, tag, semver range or commit does not
	// exist in the repository (yet).
	ErrRefNotFound = errors.New("ref not found")
	// ErrRepoNotFound: the server answered but has no such repository.
	ErrRepoNotFound = errors.New("repository not found")
	// ErrAuth: credentials are missing, unparsable or refused.
	ErrAuth = errors.New("authentication failed")
	// ErrUnreachable: the remote could not be contacted or did not answer
	// in time; usually transient.
	ErrUnreachable = errors.New("remote unreachable")
	// ErrHostKey: the SSH server's key is unknown or differs from
	// known_hosts.
	ErrHostKey = errors.New("ssh host key rejected")
	// ErrTooLarge: a file or the whole checkout is over the configured
	// limit.
	ErrTooLarge = errors.New("checkout too large")
	// ErrUnsafePath: a tree entry would be written outside the checkout.
	ErrUnsafePath = errors.New("unsafe path in tree")
)

// gitError is the one error type of the package: a ready-to-print message
// plus the sentinel (kind) and the underlying cause for errors.Is/As.
type gitError struct {
	kind  error
	msg   string
	cause error
}

func (e *gitError) Error() string { return e.msg }

func (e *gitError) Unwrap() []error {
	errs := make([]error, 0, 2)
	if e.kind != nil {
		errs = append(errs, e.kind)
	}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// newError builds "git: <format>[: <cause>]". The cause text goes through
// scrub because it comes from libraries that may echo URLs or headers, and
// its line breaks (a server's "remote:" lines) are folded, so that the
// message stays one line.
func newError(kind, cause error, scrub secrets, format string, args ...any) error {
	msg := "git: " + fmt.Sprintf(format, args...)
	if cause != nil {
		msg += ": " + strings.Join(strings.Fields(scrub.scrub(cause.Error())), " ")
	}
	return &gitError{kind: kind, msg: msg, cause: cause}
}

// secrets lists strings that must never appear in an error message.
type secrets []string

// scrub replaces every secret in msg by "***", also in the escaped forms
// a library may print it in: in a query, in a path, and in a URL's
// userinfo (which escapes differently from both).
func (s secrets) scrub(msg string) string {
	for _, v := range s {
		if v == "" {
			continue
		}
		userinfo := strings.TrimPrefix(url.UserPassword("", v).String(), ":")
		for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v), userinfo} {
			msg = strings.ReplaceAll(msg, form, "***")
		}
	}
	return msg
}

// classify is classifyAs for the Fetcher.
func classify(ctx context.Context, err error, loc *location, timeout time.Duration, scrub secrets) error {
	return classifyAs(ctx, "fetch from", err, loc, timeout, scrub)
}

// classifyAs turns an error from go-git or the network, met while doing op
// ("fetch from", "push to") with loc, into a gitError carrying the right
// sentinel. ctx is the operation's context: its state is the most reliable
// way to tell a timeout from other failures, since not every layer wraps
// context errors with %w.
func classifyAs(ctx context.Context, op string, err error, loc *location, timeout time.Duration, scrub secrets) error {
	var ge *gitError
	var hk *hostKeyError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ge):
		return err
	case errors.As(err, &hk):
		return hk.toError()
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return newError(ErrUnreachable, nil, scrub, "cannot reach %s: no answer within %s", loc.display, timeout)
	case errors.Is(err, context.Canceled):
		return newError(nil, err, scrub, "%s %s canceled", op, loc.display)
	case errors.Is(err, transport.ErrAuthenticationRequired):
		return newError(ErrAuth, nil, scrub, "authentication required for %s", loc.display)
	case errors.Is(err, transport.ErrAuthorizationFailed):
		return newError(ErrAuth, nil, scrub, "authorization failed for %s", loc.display)
	case errors.Is(err, transport.ErrInvalidAuthMethod):
		return newError(ErrAuth, nil, scrub, "credentials do not suit %s", loc.display)
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return newError(ErrRepoNotFound, nil, scrub, "repository not found at %s", loc.display)
	case errors.Is(err, transport.ErrEmptyRemoteRepository):
		return newError(ErrRefNotFound, nil, scrub, "repository %s is empty", loc.display)
	case strings.Contains(err.Error(), "ssh: unable to authenticate"):
		// x/crypto/ssh has no sentinel for a refused key.
		return newError(ErrAuth, err, scrub, "ssh authentication failed for %s", loc.display)
	case isNetError(err):
		return newError(ErrUnreachable, err, scrub, "cannot reach %s", loc.display)
	default:
		return newError(nil, err, scrub, "%s %s failed", op, loc.display)
	}
}

func isNetError(err error) bool {
	var opErr *net.OpError
	var dnsErr *net.DNSError
	var urlErr *url.Error
	return errors.As(err, &opErr) || errors.As(err, &dnsErr) || errors.As(err, &urlErr) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
