package cli

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/cruisegitops/cruise/internal/apiclient"
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
	server, err := normalizeServer(rawServer)
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
	if _, err := store.load(); err != nil {
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
	httpCtx := context.WithValue(ctx, oauth2.HTTPClient, oauthHTTPClient())
	md, err := discoverIssuer(httpCtx, ac.Issuer)
	if err != nil {
		return fail(2, err)
	}
	cfg := oauth2.Config{ClientID: ac.ClientID, Endpoint: md.endpoint(), Scopes: ac.Scopes}
	var tok *oauth2.Token
	if o.Device {
		tok, err = deviceLogin(httpCtx, errOut, cfg, md, o.Timeout)
	} else {
		tok, err = browserLogin(httpCtx, errOut, cfg, md, o)
	}
	if err != nil {
		return err
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
	login := &serverLogin{Issuer: md.Issuer, ClientID: ac.ClientID}
	login.setToken(tok)
	var previous *serverLogin
	err = store.update(func(c *credentials) (bool, error) {
		previous = c.Servers[server]
		c.Servers[server] = login
		c.Current = server
		return true, nil
	})
	if err != nil {
		return err
	}
	// The login it replaces is ended, so that no valid token lingers.
	if previous != nil && previous.RefreshToken != "" && previous.RefreshToken != login.RefreshToken {
		_ = revokeLogin(httpCtx, previous) // best effort: it expires anyway
	}
	fmt.Fprintf(out, "Logged in to %s as %s\n", server, who.User)
	return nil
}

// issuerMetadata is what the CLI reads of the authorization server
// metadata (RFC 8414 section 2).
type issuerMetadata struct {
	Issuer                      string   `json:"issuer"`
	AuthorizationEndpoint       string   `json:"authorization_endpoint"`
	TokenEndpoint               string   `json:"token_endpoint"`
	DeviceAuthorizationEndpoint string   `json:"device_authorization_endpoint"`
	RevocationEndpoint          string   `json:"revocation_endpoint"`
	CodeChallengeMethods        []string `json:"code_challenge_methods_supported"`
	// IssParameter says the authorization response carries iss (RFC
	// 9207 section 3), which the client must then check.
	IssParameter bool `json:"authorization_response_iss_parameter_supported"`
}

// endpoint is the x/oauth2 view of the metadata; a public client sends
// its client_id in the form.
func (m *issuerMetadata) endpoint() oauth2.Endpoint {
	return oauth2.Endpoint{AuthURL: m.AuthorizationEndpoint, TokenURL: m.TokenEndpoint,
		DeviceAuthURL: m.DeviceAuthorizationEndpoint, AuthStyle: oauth2.AuthStyleInParams}
}

// metadataURLs are where the metadata of issuer may be: first the RFC 8414
// section 3.1 location (the well-known path inserted between host and the
// issuer's path), then OpenID Connect Discovery's (appended to the
// issuer).
func metadataURLs(issuer string) ([]string, error) {
	u, err := apiclient.CheckURL(issuer)
	if err != nil {
		return nil, fmt.Errorf("issuer: %w", err)
	}
	if u.RawQuery != "" {
		return nil, fmt.Errorf("issuer %q must have no query", issuer)
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	return []string{
		u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + path,
		strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration",
	}, nil
}

// discoverIssuer reads and checks the metadata of issuer: its issuer must
// be the one asked for (RFC 8414 section 3.3), its endpoints https (or
// http on loopback), and PKCE with S256 supported.
func discoverIssuer(ctx context.Context, issuer string) (*issuerMetadata, error) {
	urls, err := metadataURLs(issuer)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, u := range urls {
		md, err := fetchMetadata(ctx, u)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if md.Issuer != strings.TrimSuffix(issuer, "/") && md.Issuer != issuer {
			return nil, fmt.Errorf("metadata at %s names issuer %q, not %q", u, md.Issuer, issuer)
		}
		if err := md.check(); err != nil {
			return nil, fmt.Errorf("metadata at %s: %w", u, err)
		}
		return md, nil
	}
	return nil, fmt.Errorf("authorization server metadata of %s: %w", issuer, errors.Join(errs...))
}

func (m *issuerMetadata) check() error {
	if m.AuthorizationEndpoint == "" || m.TokenEndpoint == "" {
		return errors.New("no authorization or token endpoint")
	}
	for _, e := range []string{m.AuthorizationEndpoint, m.TokenEndpoint, m.DeviceAuthorizationEndpoint, m.RevocationEndpoint} {
		if e == "" {
			continue
		}
		if _, err := apiclient.CheckURL(e); err != nil {
			return err
		}
	}
	if len(m.CodeChallengeMethods) > 0 && !slices.Contains(m.CodeChallengeMethods, "S256") {
		return errors.New("PKCE with S256 is not supported")
	}
	return nil
}

func fetchMetadata(ctx context.Context, u string) (*issuerMetadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := httpClient(ctx).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	var md issuerMetadata
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&md); err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	return &md, nil
}

// httpClient is the client x/oauth2 uses for ctx.
func httpClient(ctx context.Context) *http.Client {
	if hc, ok := ctx.Value(oauth2.HTTPClient).(*http.Client); ok {
		return hc
	}
	return oauthHTTPClient()
}

// browserLogin is the authorization code grant with PKCE (S256) for a
// native app (RFC 8252): the redirect URI is http://127.0.0.1:PORT/callback
// on a port chosen now (section 7.3), served until one callback with the
// right state arrives or o.Timeout passes.
func browserLogin(ctx context.Context, errOut io.Writer, cfg oauth2.Config, md *issuerMetadata, o *LoginOptions) (*oauth2.Token, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the login callback: %w", err)
	}
	cfg.RedirectURL = "http://" + l.Addr().String() + "/callback"
	state := randomString()
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))

	cb := &loginCallback{state: state, issuer: md.Issuer, requireIss: md.IssParameter, done: make(chan callbackResult, 1)}
	mux := http.NewServeMux()
	mux.Handle("/callback", cb)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	defer func() {
		// Let the browser receive its page, then stop listening.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()

	fmt.Fprintf(errOut, "Open this URL to log in: %s\n", authURL)
	if o.Browser && hasDisplay() {
		if err := openBrowser(authURL); err != nil {
			fmt.Fprintf(errOut, "Could not open a browser (%v); open the URL yourself.\n", err)
		}
	}
	wait, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	var code string
	select {
	case r := <-cb.done:
		if r.err != nil {
			return nil, fail(1, r.err)
		}
		code = r.code
	case <-wait.Done():
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fail(1, fmt.Errorf("not logged in within %s (--timeout)", o.Timeout))
	}
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fail(1, fmt.Errorf("exchange the authorization code at %s: %w", md.TokenEndpoint, tokenError(err)))
	}
	return tok, nil
}

// callbackResult is the outcome of the login callback: a code or why
// there is none.
type callbackResult struct {
	code string
	err  error
}

// loginCallback serves the redirect URI. A request whose state is not this
// login's is refused and waiting goes on (it may come from a stale tab or
// another page); the first request with the right state ends the login.
type loginCallback struct {
	state      string
	issuer     string
	requireIss bool
	done       chan callbackResult // buffered, receives once
	once       sync.Once
}

func (cb *loginCallback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	q := r.URL.Query()
	if r.Method != http.MethodGet || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(cb.state)) != 1 {
		writeCallbackPage(w, http.StatusBadRequest, "This login callback does not belong to the running cruise login (wrong state). Start again with cruise login.")
		return
	}
	res := callbackResult{code: q.Get("code")}
	iss, hasIss := q.Get("iss"), q.Has("iss")
	switch {
	case hasIss && iss != cb.issuer, !hasIss && cb.requireIss:
		// RFC 9207 section 2.4: a response from another issuer (mix-up).
		res = callbackResult{err: fmt.Errorf("the login answer came from issuer %q, not %q", iss, cb.issuer)}
	case q.Get("error") != "":
		msg := "the authorization server refused the login: " + q.Get("error")
		if d := q.Get("error_description"); d != "" {
			msg += ": " + d
		}
		res = callbackResult{err: errors.New(msg)}
	case res.code == "":
		res = callbackResult{err: errors.New("the login answer carries no authorization code")}
	}
	first := false
	cb.once.Do(func() { first = true })
	if !first {
		writeCallbackPage(w, http.StatusBadRequest, "This login has already been handled.")
		return
	}
	if res.err != nil {
		writeCallbackPage(w, http.StatusOK, "Login failed; see the terminal.")
	} else {
		writeCallbackPage(w, http.StatusOK, "You are logged in to cruise. You can close this window.")
	}
	cb.done <- res
}

// writeCallbackPage answers the browser with a fixed text, never with
// anything of the request.
func writeCallbackPage(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>cruise login</title><p>%s</p></html>\n", text)
}

// deviceLogin is the device authorization grant (RFC 8628): the user
// enters the printed code at the printed URL on any device while x/oauth2
// polls the token endpoint.
func deviceLogin(ctx context.Context, errOut io.Writer, cfg oauth2.Config, md *issuerMetadata, timeout time.Duration) (*oauth2.Token, error) {
	if md.DeviceAuthorizationEndpoint == "" {
		return nil, fail(2, fmt.Errorf("%s does not offer the device flow: log in without --device", md.Issuer))
	}
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		return nil, fail(1, fmt.Errorf("device authorization at %s: %w", md.DeviceAuthorizationEndpoint, tokenError(err)))
	}
	fmt.Fprintf(errOut, "To log in, open %s and enter the code %s\n", da.VerificationURI, da.UserCode)
	if da.VerificationURIComplete != "" {
		fmt.Fprintf(errOut, "or open %s\n", da.VerificationURIComplete)
	}
	wait, cancel := context.WithTimeout(ctx, timeout)
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
		return nil, fail(1, fmt.Errorf("not logged in within %s (--timeout, or the code expired)", timeout))
	case errors.As(err, &re) && re.ErrorCode == "access_denied":
		return nil, fail(1, errors.New("the login was denied"))
	case errors.As(err, &re) && re.ErrorCode == "expired_token":
		return nil, fail(1, errors.New("the code expired before the login: run cruise login --device again"))
	}
	return nil, fail(1, fmt.Errorf("device login at %s: %w", md.TokenEndpoint, tokenError(err)))
}

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

// randomString returns 256 random bits, base64url, for the state.
func randomString() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
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
