package gitwrite

import (
	"context"
	"errors"

	"github.com/cruisegitops/cruise/internal/source"
)

// Sentinel errors for what only a write can meet. Every other error wraps
// internal/source's sentinels, the same a fetch would: source.ErrInvalid
// (bad SHA, branch, path or URL), source.ErrAuth, source.ErrHostKey,
// source.ErrUnreachable, source.ErrRepoNotFound and source.ErrRefNotFound
// (no such branch).
var (
	// ErrNotAncestor: the target commit is not in the branch's history.
	ErrNotAncestor = errors.New("target is not an ancestor of the branch")
	// ErrConflict: commits pushed while we worked changed the paths being
	// restored; rolling back over them would silently undo them.
	ErrConflict = errors.New("concurrent change to the restored paths")
	// ErrRejected: the remote refused the push for a reason other than a
	// concurrent update (protected branch, hook).
	ErrRejected = errors.New("push rejected")
)

// conflictError is an ErrConflict that knows the files it is about.
type conflictError struct {
	error
	files []string
}

func (e *conflictError) Unwrap() error { return e.error }

// ConflictFiles returns the files an ErrConflict names, nil for any other
// error.
func ConflictFiles(err error) []string {
	var ce *conflictError
	if errors.As(err, &ce) {
		return ce.files
	}
	return nil
}

func conflict(r *source.Remote, files []string, format string, args ...any) error {
	return &conflictError{error: r.Errorf(ErrConflict, nil, format, args...), files: files}
}

// reachedRemote reports whether a push error came from the remote itself
// (it refused the update), rather than from not getting through to it:
// credentials, host key, network, no such repository, or our own context.
func reachedRemote(err error) bool {
	for _, kind := range []error{source.ErrAuth, source.ErrHostKey, source.ErrUnreachable, source.ErrRepoNotFound, context.Canceled} {
		if errors.Is(err, kind) {
			return false
		}
	}
	return true
}
