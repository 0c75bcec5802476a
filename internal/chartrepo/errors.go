package chartrepo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Kinds of failure, for errors.Is: a caller retries Unreachable, and
// stalls on the others until the spec or the repository changes.
var (
	// ErrUnreachable: the repository did not answer (refused, DNS, TLS,
	// timeout, 5xx).
	ErrUnreachable = errors.New("repository unreachable")
	// ErrUnauthorized: the repository answered 401 or 403.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNotFound: no such chart, or no version matching the request.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: a malformed index, an oversized or unsafe archive, a
	// digest mismatch, a bad request.
	ErrInvalid = errors.New("invalid")
)

// Error is a one-line message naming the culprit (URL, chart, version,
// entry) and never a credential, with a kind for errors.Is.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Is matches the kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

func errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: oneLine(fmt.Sprintf(format, args...))}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// redact shows a URL without user info, query or fragment: index.yaml
// chart URLs are often pre-signed, and a query is as secret as a password.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable URL>"
	}
	u.User = nil
	u.RawQuery, u.ForceQuery = "", false
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// transportError turns a failed request into an Error: timeouts say how
// long was waited, other failures carry the cause without the URL (which
// the caller names, redacted).
func transportError(ctx context.Context, what string, timeout time.Duration, err error) error {
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return errorf(ErrUnreachable, "%s: timed out after %s", what, timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return errorf(ErrUnreachable, "%s: unreachable: %v", what, err)
}
