package oauthclient

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"
)

// ErrLoginEnded is wrapped by the errors that mean the user must log in
// again: no login for the server, or one whose refresh token has expired
// or was revoked.
var ErrLoginEnded = errors.New("log in again")

// ErrNoDeviceFlow: the authorization server offers no device
// authorization endpoint.
var ErrNoDeviceFlow = errors.New("the authorization server does not offer the device flow")

// TimeoutError: the user did not log in within the time given.
type TimeoutError struct {
	Timeout time.Duration
}

func (e *TimeoutError) Error() string { return fmt.Sprintf("not logged in within %s", e.Timeout) }

// tokenError shortens x/oauth2's errors to the RFC 6749 section 5.2 code
// and description; its text otherwise carries the whole response body.
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode != "" {
		if re.ErrorDescription != "" {
			return fmt.Errorf("%s: %s", re.ErrorCode, re.ErrorDescription)
		}
		return errors.New(re.ErrorCode)
	}
	return err
}
