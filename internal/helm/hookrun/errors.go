package hookrun

import (
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/cruisegitops/cruise/internal/apply"
)

// Reason says why a hook failed, so the caller can decide whether trying
// again can help.
type Reason string

const (
	// ReasonInvalid: the hook is not runnable as rendered (no name, an
	// unknown delete policy, a kind the cluster does not serve). Only a
	// change of the chart or its values helps.
	ReasonInvalid Reason = "Invalid"
	// ReasonConflict: an object of the hook's name exists and is not a hook
	// of this release.
	ReasonConflict Reason = "Conflict"
	// ReasonFailed: the hook ran and failed (Job Failed, Pod Failed).
	ReasonFailed Reason = "Failed"
	// ReasonTimeout: the hook was not done (or not gone) within the
	// timeout.
	ReasonTimeout Reason = "Timeout"
	// ReasonAPI: the API server refused or could not be reached.
	ReasonAPI Reason = "API"
)

// HookError is the failure of one hook. Its message names the hook, e.g.
// "hook Job web/migrate (pre-upgrade, from web/templates/migrate.yaml)
// did not complete within 5m0s: 0 of 1 completions".
type HookError struct {
	Ref    apply.ObjRef
	Source string
	Event  string
	Reason Reason
	// Err says what happened, starting with a verb ("failed: ...").
	Err error
}

func (e *HookError) Error() string {
	return fmt.Sprintf("%s %v", describe(e.Ref, e.Event, e.Source), e.Err)
}

// describe names a hook as every message does:
// "hook Job web/migrate (pre-upgrade, from web/templates/migrate.yaml)".
func describe(ref apply.ObjRef, event, source string) string {
	name := ref.Name
	if name == "" {
		name = "(no name)"
	}
	if ref.Namespace != "" {
		name = ref.Namespace + "/" + name
	}
	return fmt.Sprintf("hook %s %s (%s, from %s)", ref.Kind, name, event, source)
}

func (e *HookError) Unwrap() error { return e.Err }

func (h *run) errorf(reason Reason, format string, args ...any) *HookError {
	return &HookError{Ref: h.ref, Source: h.source, Event: h.event, Reason: reason, Err: fmt.Errorf(format, args...)}
}

// scrub keeps what the API server said about a sensitive hook to its
// status code and reason: its messages may quote the values sent.
func (h *run) scrub(err error) error {
	var status apierrors.APIStatus
	if !h.sensitive || !errors.As(err, &status) {
		return err
	}
	st := status.Status()
	return &scrubbedError{msg: fmt.Sprintf("%d %s (details withheld: the object holds secret values)", st.Code, st.Reason), err: err}
}

// scrubbedError keeps the API error for errors.Is/As (apierrors.IsConflict
// and the like) but not its message.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

func notFound(err error) bool { return apierrors.IsNotFound(err) }
