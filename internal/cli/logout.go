package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cruisegitops/cruise/internal/oauthclient"
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
		if server, err = oauthclient.NormalizeServer(rawServer); err != nil {
			return fail(2, err)
		}
	}
	store, err := openCredentials(o.CredentialsFile)
	if err != nil {
		return fail(2, err)
	}
	res, err := store.Logout(ctx, server)
	if err != nil {
		return fail(2, err)
	}
	switch {
	case res.Server == "" && len(res.LoggedIn) > 0:
		fmt.Fprintf(out, "No current server; logged in to %s (cruise logout SERVER)\n", strings.Join(res.LoggedIn, ", "))
	case res.Server == "":
		fmt.Fprintln(out, "Not logged in")
	case res.Removed == nil:
		fmt.Fprintf(out, "Not logged in to %s\n", res.Server)
	default:
		fmt.Fprintf(out, "Logged out of %s\n", res.Server)
	}
	if res.RevokeErr != nil {
		return fail(1, fmt.Errorf("the login to %s was deleted here, but not revoked at %s (its tokens stay valid until they expire): %w",
			res.Server, res.Removed.Issuer, res.RevokeErr))
	}
	return nil
}
