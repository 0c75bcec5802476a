package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/cruisegitops/cruise/internal/apiclient"
	"github.com/cruisegitops/cruise/internal/oauthclient"
)

// LoginOptions configure `cruise login`.
type LoginOptions struct {
	// Device uses the device authorization grant (RFC 8628) instead of a
	// browser on this machine.
	Device bool
	// Browser opens the login URL in a browser when a display exists.
	Browser bool
	// Timeout bounds the wait for the user to log in; default 5m.
	Timeout time.Duration
	// CredentialsFile is where the tokens go; default
	// <user config dir>/cruise/credentials.json.
	CredentialsFile string
}

func newLoginCommand() *cobra.Command {
	o := &LoginOptions{Browser: true, Timeout: 5 * time.Minute}
	var noBrowser bool
	cmd := &cobra.Command{
		Use:   "login SERVER",
		Short: "Log in to a cruise server, for the commands that work through its API",
		Long: `Log in to the cruise server at SERVER (https://cruise.example.com) with the
authorization server it names, and keep the tokens for the next commands.

By default the login happens in a browser: cruise prints a URL (and opens it
when it can), you log in there, and the browser comes back to cruise on a
port of 127.0.0.1 (authorization code with PKCE, RFC 8252). With --device,
for a machine without a browser, cruise prints a URL and a code to enter on
any other device (RFC 8628).

The tokens are kept in <config dir>/cruise/credentials.json (mode 0600;
the config dir is $XDG_CONFIG_HOME, else ~/.config), and SERVER becomes the
current server: cruise get apps, reconcile app, suspend app, resume app and
rollback app then go through its API, unless --kubeconfig or --context is
given. Access tokens are refreshed when they expire; cruise logout ends the
login.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fail(2, fmt.Errorf("%s: the SERVER URL is missing (cruise login https://cruise.example.com)", cmd.CommandPath()))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if noBrowser {
				o.Browser = false
			}
			return runLogin(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o, args[0])
		},
	}
	cmd.SetFlagErrorFunc(flagError)
	f := cmd.Flags()
	f.BoolVar(&o.Device, "device", o.Device, "log in on another device with a code (no browser needed here)")
	f.BoolVar(&o.Browser, "browser", o.Browser, "open the login URL in a browser when a display exists")
	f.BoolVar(&noBrowser, "no-browser", false, "only print the login URL")
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "how long to wait for the login")
	return cmd
}

func runLogin(ctx context.Context, out, errOut io.Writer, o *LoginOptions, rawServer string) error {
	server, err := oauthclient.NormalizeServer(rawServer)
	if err != nil {
		return fail(2, err)
	}
	if o.Timeout <= 0 {
		return fail(2, fmt.Errorf("invalid --timeout %s: must be positive", o.Timeout))
	}
	store, err := openCredentials(o.CredentialsFile)
	if err != nil {
		return fail(2, err)
	}
	// An unsafe file is refused before the user spends time logging in.
	if _, err := store.Load(); err != nil {
		return fail(2, err)
	}
	anon, err := apiclient.New(server, nil, apiclient.WithUserAgent("cruise/"+version))
	if err != nil {
		return fail(2, err)
	}
	ac, err := anon.AuthConfig(ctx)
	if err != nil {
		return fail(2, err)
	}
	if ac.Issuer == "" || ac.ClientID == "" {
		return fail(2, fmt.Errorf("%s names no authorization server or client to log in with", server))
	}
	md, err := oauthclient.Discover(ctx, ac.Issuer)
	if err != nil {
		return fail(2, err)
	}
	cfg := oauth2.Config{ClientID: ac.ClientID, Scopes: ac.Scopes}
	var tok *oauth2.Token
	if o.Device {
		tok, err = oauthclient.DeviceLogin(ctx, cfg, md, oauthclient.DeviceOptions{Timeout: o.Timeout,
			Show: func(uri, code, complete string) {
				fmt.Fprintf(errOut, "To log in, open %s and enter the code %s\n", uri, code)
				if complete != "" {
					fmt.Fprintf(errOut, "or open %s\n", complete)
				}
			}})
	} else {
		tok, err = oauthclient.BrowserLogin(ctx, cfg, md, oauthclient.BrowserOptions{Timeout: o.Timeout,
			Show: func(authURL string) {
				fmt.Fprintf(errOut, "Open this URL to log in: %s\n", authURL)
				if o.Browser && hasDisplay() {
					if err := openBrowser(authURL); err != nil {
						fmt.Fprintf(errOut, "Could not open a browser (%v); open the URL yourself.\n", err)
					}
				}
			}})
	}
	if err != nil {
		return loginError(err, o.Device)
	}

	// The API must accept the token before it is kept.
	api, err := apiclient.New(server, oauth2.StaticTokenSource(tok), apiclient.WithUserAgent("cruise/"+version))
	if err != nil {
		return err
	}
	who, err := api.Whoami(ctx)
	if err != nil {
		return fmt.Errorf("logged in at %s, but the server refused the token: %w", md.Issuer, err)
	}
	if err := store.Keep(ctx, server, oauthclient.NewLogin(md.Issuer, ac.ClientID, tok)); err != nil {
		return err
	}
	fmt.Fprintf(out, "Logged in to %s as %s\n", server, who.User)
	return nil
}

// loginError is the exit code of a failed login, 1, and the flag to
// change where that helps; a server without the device flow is a usage
// error, 2.
func loginError(err error, device bool) error {
	var te *oauthclient.TimeoutError
	switch {
	case errors.Is(err, oauthclient.ErrNoDeviceFlow):
		return fail(2, fmt.Errorf("%w: log in without --device", err))
	case errors.As(err, &te) && device:
		return fail(1, fmt.Errorf("%w (--timeout, or the code expired)", err))
	case errors.As(err, &te):
		return fail(1, fmt.Errorf("%w (--timeout)", err))
	}
	return fail(1, err)
}

// hasDisplay reports whether a browser could be shown: always on macOS
// and Windows, elsewhere when an X11 or Wayland display is set.
func hasDisplay() bool {
	switch runtime.GOOS {
	case "darwin", "windows":
		return true
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}

// openBrowser starts the desktop's URL handler on u and does not wait for
// it.
func openBrowser(u string) error {
	if _, err := url.Parse(u); err != nil {
		return err
	}
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", u)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		cmd = exec.Command("xdg-open", u)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait() // reap it
	return nil
}
