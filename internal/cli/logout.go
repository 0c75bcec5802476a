package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"
)

// LogoutOptions configure `cruise logout`.
type LogoutOptions struct {
	// CredentialsFile is cruise login's file; default
	// <user config dir>/cruise/credentials.json.
	CredentialsFile string
}

func newLogoutCommand() *cobra.Command {
	o := &LogoutOptions{}
	cmd := &cobra.Command{
		Use:   "logout [SERVER]",
		Short: "End the login to a cruise server (default the current one)",
		Long: `Revoke the login's refresh token at the authorization server (RFC 7009),
which also ends its access tokens, and delete it from the credentials file.
Without SERVER, the current server is logged out of. Not being logged in is
no error.

Exit codes:
  0  logged out, or not logged in
  1  deleted here, but the token could not be revoked (it stays valid
     until it expires)
  2  error: bad SERVER, unreadable credentials file`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return fail(2, fmt.Errorf("%s: at most one SERVER expected, got %s", cmd.CommandPath(), strings.Join(args, " ")))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			server := ""
			if len(args) == 1 {
				server = args[0]
			}
			return runLogout(cmd.Context(), cmd.OutOrStdout(), o, server)
		},
	}
	cmd.SetFlagErrorFunc(flagError)
	return cmd
}

func runLogout(ctx context.Context, out io.Writer, o *LogoutOptions, rawServer string) error {
	server := ""
	if rawServer != "" {
		var err error
		if server, err = normalizeServer(rawServer); err != nil {
			return fail(2, err)
		}
	}
	store, err := openCredentials(o.CredentialsFile)
	if err != nil {
		return fail(2, err)
	}
	var removed *serverLogin
	var revokeErr error
	var others []string
	err = store.update(func(c *credentials) (bool, error) {
		if server == "" {
			server, others = c.Current, c.loggedInServers()
		}
		if removed = c.Servers[server]; removed == nil {
			return false, nil
		}
		// Revoked first, deleted whatever the outcome: the user asked to
		// be logged out here.
		revokeErr = revokeLogin(context.WithValue(ctx, oauth2.HTTPClient, oauthHTTPClient()), removed)
		delete(c.Servers, server)
		if c.Current == server {
			c.Current = ""
		}
		return true, nil
	})
	if err != nil {
		return fail(2, err)
	}
	switch {
	case server == "" && len(others) > 0:
		fmt.Fprintf(out, "No current server; logged in to %s (cruise logout SERVER)\n", strings.Join(others, ", "))
	case server == "":
		fmt.Fprintln(out, "Not logged in")
	case removed == nil:
		fmt.Fprintf(out, "Not logged in to %s\n", server)
	default:
		fmt.Fprintf(out, "Logged out of %s\n", server)
	}
	if revokeErr != nil {
		return fail(1, fmt.Errorf("the login to %s was deleted here, but not revoked at %s (its tokens stay valid until they expire): %w",
			server, removed.Issuer, revokeErr))
	}
	return nil
}

// revokeLogin revokes the refresh token of l (or, without one, its access
// token) at the issuer's revocation endpoint (RFC 7009 section 2.1), as a
// public client: client_id in the form, no secret.
func revokeLogin(ctx context.Context, l *serverLogin) error {
	token, hint := l.RefreshToken, "refresh_token"
	if token == "" {
		token, hint = l.AccessToken, "access_token"
	}
	if token == "" {
		return nil
	}
	md, err := discoverIssuer(ctx, l.Issuer)
	if err != nil {
		return err
	}
	if md.RevocationEndpoint == "" {
		return errors.New("the authorization server has no revocation endpoint")
	}
	form := url.Values{"token": {token}, "token_type_hint": {hint}, "client_id": {l.ClientID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, md.RevocationEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := httpClient(ctx).Do(req)
	if err != nil {
		// The *url.Error names the endpoint, not the form.
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	// Section 2.2.1: an error response as in RFC 6749 section 5.2.
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&e)
	msg := resp.Status
	if e.Error != "" {
		msg += ": " + e.Error
		if e.Description != "" {
			msg += ": " + e.Description
		}
	}
	return fmt.Errorf("POST %s: %s", md.RevocationEndpoint, msg)
}
