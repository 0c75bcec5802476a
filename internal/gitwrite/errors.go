package gitwrite

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/cruisegitops/cruise/internal/source"
)

// Sentinel errors wrapped by every error Revert returns. ErrAuth and
// ErrRefNotFound also wrap their internal/source counterparts, so code that
// already handles fetch errors handles these too.
var (
	// ErrInvalid: the request itself is wrong (bad SHA, path, URL).
	ErrInvalid = fmt.Errorf("invalid rollback request: %w", source.ErrInvalid)
	// ErrNotAncestor: the target commit is not in the branch's history.
	ErrNotAncestor = errors.New("target is not an ancestor of the branch")
	// ErrConflict: commits pushed while we worked changed the paths being
	// restored; rolling back over them would silently undo them.
	ErrConflict = errors.New("concurrent change to the restored paths")
	// ErrAuth: credentials are missing, unusable or refused.
	ErrAuth = fmt.Errorf("git write: %w", source.ErrAuth)
	// ErrRefNotFound: the branch does not exist on the remote.
	ErrRefNotFound = fmt.Errorf("git write: %w", source.ErrRefNotFound)
	// ErrRejected: the remote refused the push for a reason other than a
	// concurrent update (protected branch, hook).
	ErrRejected = errors.New("push rejected")
	// ErrUnreachable: the remote could not be contacted in time.
	ErrUnreachable = fmt.Errorf("git write: %w", source.ErrUnreachable)
)

// writeError is the package's one error type: a printable one-line message,
// the sentinel it belongs to and the cause, both reachable by errors.Is/As.
type writeError struct {
	kind  error
	msg   string
	cause error
	files []string // of an ErrConflict
}

// ConflictFiles returns the files an ErrConflict names, nil for any other
// error.
func ConflictFiles(err error) []string {
	var we *writeError
	if errors.As(err, &we) && errors.Is(we.kind, ErrConflict) {
		return we.files
	}
	return nil
}

func conflict(files []string, format string, args ...any) error {
	err := newError(ErrConflict, nil, nil, format, args...).(*writeError)
	err.files = files
	return err
}

func (e *writeError) Error() string { return e.msg }

func (e *writeError) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.kind, e.cause} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// newError builds "gitwrite: <format>[: <cause>]" with secrets removed
// from the cause's text and newlines folded, so the message stays one line.
func newError(kind, cause error, scrub secrets, format string, args ...any) error {
	msg := "gitwrite: " + fmt.Sprintf(format, args...)
	if cause != nil {
		msg += ": " + scrub.scrub(cause.Error())
	}
	msg = strings.Join(strings.Fields(msg), " ")
	return &writeError{kind: kind, msg: msg, cause: cause}
}

// secrets lists strings that must never appear in an error message.
type secrets []string

func (s secrets) scrub(msg string) string {
	for _, v := range s {
		if v == "" {
			continue
		}
		for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v)} {
			msg = strings.ReplaceAll(msg, form, "***")
		}
	}
	return msg
}
