package controller

import (
	"errors"
	"fmt"
	"time"
)

// phaseError is what a phase returns when it cannot go on. Reason becomes
// the Ready condition's reason. Stalling errors cannot be fixed by
// retrying alone (invalid manifests, missing permissions, refused
// credentials): they set Stalled. Both stalling and other (transient)
// errors are retried on the object's backoff schedule, since the change
// that fixes a stalling one (a Secret, a RoleBinding) may not trigger a
// reconcile. Waiting errors are not failures at all (a dependency or the
// source is not ready yet): they requeue after RequeueAfter. outcomes.finish
// turns each into status, events and the requeue.
type phaseError struct {
	Reason       string
	Err          error
	Stalling     bool
	Waiting      bool
	RequeueAfter time.Duration
}

func (e *phaseError) Error() string { return e.Err.Error() }
func (e *phaseError) Unwrap() error { return e.Err }

func stalling(reason string, err error) error {
	return &phaseError{Reason: reason, Err: err, Stalling: true}
}

func transient(reason string, err error) error {
	return &phaseError{Reason: reason, Err: err}
}

func waiting(reason string, after time.Duration, format string, args ...any) error {
	return &phaseError{Reason: reason, Err: fmt.Errorf(format, args...), Waiting: true, RequeueAfter: after}
}

// asPhaseError classifies any error; unknown errors are transient.
func asPhaseError(err error, fallbackReason string) *phaseError {
	var pe *phaseError
	if errors.As(err, &pe) {
		return pe
	}
	return &phaseError{Reason: fallbackReason, Err: err}
}
