package cli

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/cruisegitops/cruise/oauth"
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

// serve runs h on l (TLS when cert is set) until ctx ends, then shuts down
// gracefully. writeTimeout 0 leaves long responses (event streams) to the
// handler's own deadlines.
func serve(ctx context.Context, logger *slog.Logger, l net.Listener, h http.Handler, cert, key string, writeTimeout time.Duration, what string, attrs ...any) error {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: writeTimeout, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() {
		if cert != "" {
			errc <- hs.ServeTLS(l, cert, key)
		} else {
			errc <- hs.Serve(l)
		}
	}()
	logger.Info(what+" listening", append([]any{"addr", l.Addr().String()}, attrs...)...)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	return hs.Shutdown(shutdown)
}
