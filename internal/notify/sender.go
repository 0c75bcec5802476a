package notify

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sender delivers messages to one Provider. Send makes one attempt within
// ctx; the queue retries. An error wrapping ErrRetryable (or a
// *RetryAfterError) is retried with backoff; any other error is final.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// ErrRetryable marks a failure worth retrying: a connection error, a
// timeout, HTTP 429 or 5xx, an SMTP 4xx reply.
var ErrRetryable = errors.New("retryable")

// RetryAfterError is a retryable failure whose receiver said when to try
// again (HTTP Retry-After).
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
}

// Unwrap makes errors.Is(err, ErrRetryable) true.
func (e *RetryAfterError) Unwrap() []error { return []error{ErrRetryable, e.Err} }

// Retryable wraps err as retryable; its message is err's.
func Retryable(err error) error {
	if err == nil {
		return nil
	}
	return &retryableError{err}
}

type retryableError struct{ err error }

func (e *retryableError) Error() string   { return e.err.Error() }
func (e *retryableError) Unwrap() []error { return []error{ErrRetryable, e.err} }
