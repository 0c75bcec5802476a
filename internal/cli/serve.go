package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/cruisegitops/cruise/oauth"
	"github.com/cruisegitops/cruise/oauth/loopback"
)

// upstreamFlags are the flags federating the built-in authorization
// server's login to an OpenID provider (`cruise auth serve`, `cruise
// server`).
type upstreamFlags struct {
	Issuer, ClientID, Name, SecretFile string
}

// options returns the upstream to federate to, nil without --upstream-issuer.
// The client secret comes from SecretFile, else $EnvAuthUpstreamSecret, so
// that it appears neither in flags nor in ps.
func (u upstreamFlags) options() (*oauth.UpstreamOptions, error) {
	if u.Issuer == "" {
		return nil, nil
	}
	secret := os.Getenv(EnvAuthUpstreamSecret)
	if u.SecretFile != "" {
		b, err := os.ReadFile(u.SecretFile)
		if err != nil {
			return nil, fail(2, err)
		}
		secret = strings.TrimSpace(string(b))
	}
	return &oauth.UpstreamOptions{Issuer: u.Issuer, ClientID: u.ClientID, ClientSecret: secret, Name: u.Name}, nil
}

// listenFlags are where a server command listens: --addr, and --tls-cert
// with --tls-key for HTTPS; --trusted-proxy names the proxies in front.
type listenFlags struct {
	Addr, TLSCert, TLSKey string
	TrustedProxies        []string
}

func (l *listenFlags) addFlags(f *pflag.FlagSet, defaultAddr string) {
	f.StringVar(&l.Addr, "addr", defaultAddr, "listen address HOST:PORT")
	f.StringVar(&l.TLSCert, "tls-cert", "", "TLS certificate file (PEM)")
	f.StringVar(&l.TLSKey, "tls-key", "", "TLS private key file (PEM)")
	f.StringArrayVar(&l.TrustedProxies, "trusted-proxy", nil,
		"CIDR or IP of a reverse proxy in front (ingress controller, load balancer) whose X-Forwarded-For gives the client address that sign-in throttling keys by (repeatable)")
}

// trustedProxies parses --trusted-proxy: CIDRs, or single addresses.
func (l *listenFlags) trustedProxies() ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(l.TrustedProxies))
	for _, s := range l.TrustedProxies {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fail(2, fmt.Errorf("--trusted-proxy %q: want a CIDR (10.0.0.0/8) or an IP address", s))
			}
			a = a.Unmap()
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// check refuses plain HTTP except on a loopback address or, when
// inPodBehindIngress, in a Pod (an ingress terminates TLS in front of it).
func (l *listenFlags) check(inPodBehindIngress bool) error {
	if (l.TLSCert == "") != (l.TLSKey == "") {
		return fail(2, errors.New("--tls-cert and --tls-key go together"))
	}
	host, _, err := net.SplitHostPort(l.Addr)
	if err != nil {
		return fail(2, fmt.Errorf("--addr %q: %w", l.Addr, err))
	}
	if l.TLSCert == "" && !loopback.IsHost(host) && !inPodBehindIngress {
		return fail(2, fmt.Errorf("--addr %s: plain HTTP is allowed only on a loopback address (or in a Pod behind an ingress, for cruise server); pass --tls-cert and --tls-key", l.Addr))
	}
	return nil
}

// serve runs h on the address (TLS when a certificate is set) until ctx
// ends, then shuts down gracefully. writeTimeout 0 leaves long responses
// (event streams) to the handler's own deadlines.
func (l *listenFlags) serve(ctx context.Context, logger *slog.Logger, h http.Handler, writeTimeout time.Duration, what string, attrs ...any) error {
	ln, err := net.Listen("tcp", l.Addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: writeTimeout, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() {
		if l.TLSCert != "" {
			errc <- hs.ServeTLS(ln, l.TLSCert, l.TLSKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	logger.Info(what+" listening", append([]any{"addr", ln.Addr().String()}, attrs...)...)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	return hs.Shutdown(shutdown)
}
