package cli

import (
	"context"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/cruisegitops/cruise/oauth"
)

// EnvAuthUpstreamSecret supplies the upstream OpenID client secret to
// `cruise auth serve`, so that it appears neither in flags nor in ps.
const EnvAuthUpstreamSecret = "CRUISE_AUTH_UPSTREAM_CLIENT_SECRET"

// authServeOptions are the flags of `cruise auth serve`.
type authServeOptions struct {
	DB               authDBOptions
	Issuer           string
	Listen           listenFlags
	Audience         string
	Scopes           []string
	SigningAlgorithm string
	Upstream         upstreamFlags
}

func newAuthServeCommand() *cobra.Command {
	o := &authServeOptions{}
	cmd := &cobra.Command{
		Use:   "serve --issuer URL --addr HOST:PORT --db DSN",
		Short: "Run the authorization server",
		Long: `serve runs the OAuth 2.1 authorization server on its own. Without
--tls-cert and --tls-key it serves plain HTTP, which it allows only on a
loopback address (behind a TLS-terminating proxy on the same host).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	f := cmd.Flags()
	o.DB.addFlags(cmd)
	f.StringVar(&o.Issuer, "issuer", "", "issuer URL (https; http only on loopback)")
	o.Listen.addFlags(f, "127.0.0.1:8443")
	f.StringVar(&o.Audience, "audience", "", "aud of access tokens (default the issuer)")
	f.StringArrayVar(&o.Scopes, "scope", []string{"cruise:read", "cruise:write"}, "API scope the server issues (repeatable)")
	f.StringVar(&o.SigningAlgorithm, "signing-alg", "ES256", "algorithm of new signing keys: ES256 or EdDSA")
	f.StringVar(&o.Upstream.Issuer, "upstream-issuer", "", "issuer of an OpenID provider to federate login to")
	f.StringVar(&o.Upstream.ClientID, "upstream-client-id", "", "client ID at the upstream provider")
	f.StringVar(&o.Upstream.Name, "upstream-name", "", "name of the upstream provider on the login page")
	f.StringVar(&o.Upstream.SecretFile, "upstream-client-secret-file", "", "file with the upstream client secret (or $"+EnvAuthUpstreamSecret+")")
	cmd.MarkFlagRequired("issuer")
	return cmd
}

func (o *authServeOptions) run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	if err := o.Listen.check(false); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	st, err := o.DB.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	up, err := o.Upstream.options()
	if err != nil {
		return err
	}
	proxies, err := o.Listen.trustedProxies()
	if err != nil {
		return err
	}
	srv, err := oauth.New(ctx, oauth.Options{Issuer: o.Issuer, Store: st, Audience: o.Audience, Scopes: o.Scopes,
		SigningAlgorithm: o.SigningAlgorithm, Logger: logger, Upstream: up, TrustedProxies: proxies})
	if err != nil {
		return fail(2, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go srv.Maintain(ctx, time.Minute)
	return o.Listen.serve(ctx, logger, srv, 30*time.Second, "authorization server", "issuer", srv.Issuer())
}
