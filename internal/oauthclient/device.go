package oauthclient

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"
)

// DeviceOptions configure DeviceLogin.
type DeviceOptions struct {
	// Show hands the user the verification URI and the code to enter
	// there, and the URI with the code in it when the server gives one.
	Show func(verificationURI, userCode, verificationURIComplete string)
	// Timeout bounds the wait for the user; default 5 minutes.
	Timeout time.Duration
}

// DeviceLogin is the device authorization grant (RFC 8628) as client
// cfg.ClientID: the user enters the shown code at the shown URI on any
// device while x/oauth2 polls the token endpoint (section 3.4). Without a
// device authorization endpoint in md, ErrNoDeviceFlow; past the timeout
// or the code's expiry, a *TimeoutError.
func DeviceLogin(ctx context.Context, cfg oauth2.Config, md *Metadata, o DeviceOptions) (*oauth2.Token, error) {
	ctx = withHTTPClient(ctx)
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if md.DeviceAuthorizationEndpoint == "" {
		return nil, fmt.Errorf("%s: %w", md.Issuer, ErrNoDeviceFlow)
	}
	cfg.Endpoint = md.Endpoint()
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		return nil, fmt.Errorf("device authorization at %s: %w", md.DeviceAuthorizationEndpoint, tokenError(err))
	}
	if o.Show != nil {
		o.Show(da.VerificationURI, da.UserCode, da.VerificationURIComplete)
	}
	wait, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	tok, err := cfg.DeviceAccessToken(wait, da)
	if err == nil {
		return tok, nil
	}
	var re *oauth2.RetrieveError
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, context.DeadlineExceeded):
		return nil, &TimeoutError{Timeout: o.Timeout}
	case errors.As(err, &re) && re.ErrorCode == "access_denied":
		return nil, errors.New("the login was denied")
	case errors.As(err, &re) && re.ErrorCode == "expired_token":
		return nil, errors.New("the code expired before the login; start again")
	}
	return nil, fmt.Errorf("device login at %s: %w", md.TokenEndpoint, tokenError(err))
}
