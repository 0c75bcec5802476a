package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cruisegitops/cruise/internal/server"
	"github.com/cruisegitops/cruise/oauth"
	"github.com/cruisegitops/cruise/oauth/resource"
)

// ServerOptions are the flags of `cruise server`.
type ServerOptions struct {
	PublicURL      string
	Listen         listenFlags
	Kubeconfig     string
	Context        string
	DB             authDBOptions
	Issuer         string
	Audience       string
	UsernameClaim  string
	ReadScope      string
	WriteScope     string
	UsernamePrefix string
	GroupsPrefix   string
	UIClientID     string
	CLIClientID    string
	SessionKeyFile string
	CacheDir       string
	Upstream       upstreamFlags
	LogLevel       string
}

// builtinIssuerPath is where the built-in authorization server lives under
// the public URL.
const builtinIssuerPath = "/auth"

func newServerCommand() *cobra.Command {
	o := &ServerOptions{}
	cmd := &cobra.Command{
		Use:   "server --public-url URL",
		Short: "Serve the web UI and the JSON API (and the built-in authorization server)",
		Long: `server serves cruise's web UI and its JSON API under /api/v1 (described at
/api/v1/openapi.json), and, unless --issuer names an external OpenID Connect
provider, the built-in OAuth 2.1 authorization server under /auth (its users
and clients are managed with 'cruise auth').

Every Kubernetes request made for a user impersonates that user and their
groups: Kubernetes RBAC decides what each person sees and may do. The
server's own ServiceAccount needs only impersonate, API discovery and list
on Namespaces (see config/server).

Without --tls-cert and --tls-key it serves plain HTTP, which it allows only
on a loopback address (behind a TLS-terminating proxy on the same host, or an
ingress in front of the Pod when --addr is the Pod's).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	f := cmd.Flags()
	o.Listen.addFlags(f, "127.0.0.1:8080")
	f.StringVar(&o.PublicURL, "public-url", "", "URL browsers reach the server at (https, or http on loopback)")
	f.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: in-cluster config, else $KUBECONFIG)")
	f.StringVar(&o.Context, "context", "", "kubeconfig context")
	o.DB.addFlags(cmd)
	f.StringVar(&o.Issuer, "issuer", "", "external OpenID Connect issuer (default: the built-in server at PUBLIC-URL/auth)")
	f.StringVar(&o.Audience, "audience", "", "aud access tokens must carry (required with --issuer)")
	f.StringVar(&o.UsernameClaim, "username-claim", "preferred_username", "token claim naming the Kubernetes user: preferred_username, email or sub")
	f.StringVar(&o.ReadScope, "read-scope", "", "scope a token needs to read (default cruise:read with the built-in server, none with --issuer)")
	f.StringVar(&o.WriteScope, "write-scope", "", "scope a token needs for actions (default cruise:write with the built-in server, none with --issuer)")
	f.StringVar(&o.UsernamePrefix, "username-prefix", "", "prefix added to user names (like the API server's --oidc-username-prefix)")
	f.StringVar(&o.GroupsPrefix, "groups-prefix", "", "prefix added to group names")
	f.StringVar(&o.UIClientID, "ui-client-id", server.UIClientID, "client ID of the web UI at the issuer")
	f.StringVar(&o.CLIClientID, "cli-client-id", server.CLIClientID, "client ID the CLI logs in with")
	f.StringVar(&o.SessionKeyFile, "session-key-file", "", "file with 32 bytes (or 64 hex digits) sealing session cookies; share it between replicas (default: random per process)")
	f.StringVar(&o.CacheDir, "cache-dir", "", "directory for the Git clones diffs render from (default under the temp dir)")
	f.StringVar(&o.Upstream.Issuer, "upstream-issuer", "", "built-in server: OpenID provider to federate login to")
	f.StringVar(&o.Upstream.ClientID, "upstream-client-id", "", "built-in server: client ID at the upstream provider")
	f.StringVar(&o.Upstream.Name, "upstream-name", "", "built-in server: name of the upstream provider on the login page")
	f.StringVar(&o.Upstream.SecretFile, "upstream-client-secret-file", "", "built-in server: file with the upstream client secret (or $"+EnvAuthUpstreamSecret+")")
	f.StringVar(&o.LogLevel, "log-level", "info", "debug, info or error")
	cmd.SetFlagErrorFunc(flagError)
	return cmd
}

func (o *ServerOptions) run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	if o.PublicURL == "" {
		return fail(2, errors.New("--public-url is required: the URL browsers reach the server at"))
	}
	if err := o.Listen.check(os.Getenv("KUBERNETES_SERVICE_HOST") != ""); err != nil {
		return err
	}
	proxies, err := o.Listen.trustedProxies()
	if err != nil {
		return err
	}
	if o.Issuer != "" && o.Audience == "" {
		return fail(2, errors.New("--issuer needs --audience: the aud your provider puts in access tokens for cruise"))
	}
	level := slog.LevelInfo
	switch o.LogLevel {
	case "debug":
		level = slog.LevelDebug
	case "error":
		level = slog.LevelError
	}
	logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
	cfg, err := controllerConfig(&ControllerOptions{Kubeconfig: o.Kubeconfig, Context: o.Context, QPS: 200, Burst: 400})
	if err != nil {
		return fail(2, err)
	}
	cfg.Timeout = 0 // watches for live updates are long requests; every call has a context deadline instead
	publicURL := strings.TrimRight(o.PublicURL, "/")
	sopts := server.Options{Kube: cfg, PublicURL: publicURL, CacheDir: o.CacheDir, Logger: logger,
		Auth: server.AuthOptions{Audience: o.Audience, UsernameClaim: o.UsernameClaim, UsernamePrefix: o.UsernamePrefix,
			ReadScope: o.ReadScope, WriteScope: o.WriteScope,
			GroupsPrefix: o.GroupsPrefix, UIClientID: o.UIClientID, CLIClientID: o.CLIClientID}}
	if o.SessionKeyFile != "" {
		if sopts.SessionKey, err = readSessionKey(o.SessionKeyFile); err != nil {
			return fail(2, err)
		}
	}

	var maintain func(context.Context)
	if o.Issuer == "" {
		st, err := o.DB.open(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := server.RegisterClients(ctx, st, publicURL); err != nil {
			return err
		}
		up, err := o.Upstream.options()
		if err != nil {
			return err
		}
		// The UI and the CLI are this operator's own clients: no consent page.
		as, err := oauth.New(ctx, oauth.Options{Issuer: publicURL + builtinIssuerPath, Store: st, Logger: logger,
			Scopes: server.APIScopes(), Upstream: up, FirstPartyClients: []string{o.UIClientID, o.CLIClientID},
			TrustedProxies: proxies})
		if err != nil {
			return fail(2, err)
		}
		sopts.Auth.Builtin = as
		maintain = func(ctx context.Context) { as.Maintain(ctx, time.Minute) }
	} else if err := discoverExternalIssuer(ctx, o.Issuer, &sopts.Auth); err != nil {
		return fail(2, err)
	}

	srv, err := server.New(ctx, sopts)
	if err != nil {
		return fail(2, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if maintain != nil {
		go maintain(ctx)
	}
	// No write timeout: Server-Sent Events streams are long; the handler
	// bounds every other response through its own deadlines.
	return o.Listen.serve(ctx, logger, srv, 0, "cruise server", "url", publicURL)
}

func readSessionKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil // the Secret is optional: a random key per process
	}
	if err != nil {
		return nil, fmt.Errorf("--session-key-file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if len(s) == 64 {
		key := make([]byte, 32)
		if _, err := fmt.Sscanf(s, "%x", &key); err == nil {
			return key, nil
		}
	}
	if len(b) == 32 {
		return b, nil
	}
	return nil, fmt.Errorf("--session-key-file %s: want 32 bytes or 64 hex digits", path)
}

// discoverExternalIssuer reads an external issuer's metadata (OpenID Connect
// Discovery, then RFC 8414) for its endpoints and JWKS.
func discoverExternalIssuer(ctx context.Context, issuer string, a *server.AuthOptions) error {
	hc := &http.Client{Timeout: 10 * time.Second}
	issuer = strings.TrimRight(issuer, "/")
	var md struct {
		Issuer     string `json:"issuer"`
		Authorize  string `json:"authorization_endpoint"`
		Token      string `json:"token_endpoint"`
		Revocation string `json:"revocation_endpoint"`
		JWKS       string `json:"jwks_uri"`
	}
	var lastErr error
	for _, u := range []string{issuer + "/.well-known/openid-configuration", issuer + "/.well-known/oauth-authorization-server"} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			lastErr = err
			continue
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&md)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil {
			lastErr = fmt.Errorf("%s: status %d", u, resp.StatusCode)
			continue
		}
		if md.Issuer != issuer {
			return fmt.Errorf("issuer metadata at %s names issuer %q, want %q", u, md.Issuer, issuer)
		}
		if md.Authorize == "" || md.Token == "" || md.JWKS == "" {
			return fmt.Errorf("issuer metadata at %s lacks authorization_endpoint, token_endpoint or jwks_uri", u)
		}
		a.Issuer, a.AuthorizeURL, a.TokenURL, a.RevocationURL = issuer, md.Authorize, md.Token, md.Revocation
		a.Keys, a.HTTPClient = resource.RemoteKeys(md.JWKS, hc), hc
		return nil
	}
	return fmt.Errorf("read metadata of issuer %s: %w", issuer, lastErr)
}
