package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/cruisegitops/cruise/internal/apiclient"
)

// credentialsFileName is the file cruise login writes, under the user's
// configuration directory (os.UserConfigDir: $XDG_CONFIG_HOME, else
// ~/.config on Linux).
const credentialsFileName = "cruise/credentials.json"

// credentials is the content of the credentials file: the tokens of each
// server logged in to, and the current one.
type credentials struct {
	// Current is the server the resource commands use when no kube flag
	// is given.
	Current string `json:"current,omitempty"`
	// Servers are keyed by the normalised server URL.
	Servers map[string]*serverLogin `json:"servers"`
}

// serverLogin is one server's login.
type serverLogin struct {
	Issuer       string    `json:"issuer"`
	ClientID     string    `json:"clientID"`
	AccessToken  string    `json:"accessToken"`
	RefreshToken string    `json:"refreshToken,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
}

func (l *serverLogin) token() *oauth2.Token {
	return &oauth2.Token{AccessToken: l.AccessToken, TokenType: "Bearer", RefreshToken: l.RefreshToken, Expiry: l.Expiry}
}

// setToken stores tok, keeping the old refresh token when the answer
// carries none.
func (l *serverLogin) setToken(tok *oauth2.Token) {
	l.AccessToken, l.Expiry = tok.AccessToken, tok.Expiry
	if tok.RefreshToken != "" {
		l.RefreshToken = tok.RefreshToken
	}
}

// credentialStore reads and writes the credentials file. Changes are made
// under an exclusive lock of the file's directory (so that two cruise
// processes refreshing at once do not both spend the same rotating
// refresh token) and written atomically: temp file, chmod 0600, rename.
type credentialStore struct {
	path string
}

// defaultCredentialsPath is <user config dir>/cruise/credentials.json.
func defaultCredentialsPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("credentials file: %w", err)
	}
	return filepath.Join(dir, filepath.FromSlash(credentialsFileName)), nil
}

// openCredentials returns the store at path, or at the default path when
// path is empty.
func openCredentials(path string) (*credentialStore, error) {
	if path == "" {
		p, err := defaultCredentialsPath()
		if err != nil {
			return nil, err
		}
		path = p
	}
	return &credentialStore{path: path}, nil
}

// load reads the file; a missing file is an empty one. A file that group
// or others may read or write is refused: its tokens may have leaked, and
// reading it would hide that.
func (s *credentialStore) load() (*credentials, error) {
	c := &credentials{Servers: map[string]*serverLogin{}}
	f, err := os.Open(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	} else if err != nil {
		return nil, fmt.Errorf("credentials file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("credentials file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("credentials file %s is not a regular file", s.path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("credentials file %s is accessible by group or others (mode %04o): its tokens may have leaked; run chmod 600 %s, or cruise logout and log in again",
			s.path, perm, s.path)
	}
	dec := json.NewDecoder(f)
	if err := dec.Decode(c); err != nil {
		return nil, fmt.Errorf("credentials file %s: %w", s.path, err)
	}
	if c.Servers == nil {
		c.Servers = map[string]*serverLogin{}
	}
	return c, nil
}

// update runs fn on the file's content under the lock and saves the
// result when fn reports a change.
func (s *credentialStore) update(fn func(c *credentials) (changed bool, err error)) error {
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("credentials directory: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return err
	}
	defer unlock()
	c, err := s.load()
	if err != nil {
		return err
	}
	changed, err := fn(c)
	if err != nil || !changed {
		return err
	}
	return s.save(c)
}

// save writes c atomically with mode 0600. The caller holds the lock.
func (s *credentialStore) save(c *credentials) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(s.path)
	tmp, err := os.CreateTemp(dir, ".credentials-*.tmp")
	if err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	done = true
	return nil
}

// lockDir takes an exclusive advisory lock (flock) of dir and returns its
// release.
func lockDir(dir string) (func(), error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("lock credentials directory: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock credentials directory %s: %w", dir, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// normalizeServer checks a server URL (https, or http to a loopback
// address) and returns its canonical form, the key in the credentials
// file: no trailing slash, lower-case scheme and host.
func normalizeServer(raw string) (string, error) {
	u, err := apiclient.CheckURL(strings.TrimSpace(raw))
	if err != nil {
		return "", err
	}
	if u.RawQuery != "" || u.ForceQuery {
		return "", fmt.Errorf("invalid server URL %q: it must have no query", raw)
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// oauthHTTPClient makes the calls to the authorization server: a time
// limit, and no redirects (a token endpoint that redirects is
// misconfigured, and following it could send a token elsewhere).
func oauthHTTPClient() *http.Client {
	return &http.Client{
		Timeout: apiclient.DefaultTimeout,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			return fmt.Errorf("the authorization server redirected to %s; redirects are not followed", req.URL.Redacted())
		},
	}
}

// loginTokenSource supplies the access token of one server's login. When
// it has expired, it refreshes it under the file lock: it reads the file
// again first (another cruise process may have refreshed already, which
// spent the refresh token this one holds), then exchanges the refresh
// token through x/oauth2 and saves the answer at once, because the server
// rotates refresh tokens: the old one is invalid from then on.
type loginTokenSource struct {
	ctx    context.Context // of the command; carries the HTTP client
	store  *credentialStore
	server string

	mu  sync.Mutex    // guards tok
	tok *oauth2.Token // the last token read or refreshed
}

func newLoginTokenSource(ctx context.Context, store *credentialStore, server string, login *serverLogin) *loginTokenSource {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, oauthHTTPClient())
	return &loginTokenSource{ctx: ctx, store: store, server: server, tok: login.token()}
}

// Token returns a valid access token, refreshing it when needed.
func (s *loginTokenSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok.Valid() {
		return s.tok, nil
	}
	err := s.store.update(func(c *credentials) (bool, error) {
		l := c.Servers[s.server]
		if l == nil {
			return false, fmt.Errorf("not logged in to %s: run cruise login %s", s.server, s.server)
		}
		if cur := l.token(); cur.Valid() {
			s.tok = cur // refreshed by another process meanwhile
			return false, nil
		}
		if l.RefreshToken == "" {
			return false, fmt.Errorf("the login has expired: run cruise login %s", s.server)
		}
		tok, err := refreshLogin(s.ctx, l)
		if err != nil {
			var re *oauth2.RetrieveError
			if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
				return false, fmt.Errorf("the login has expired or was revoked: run cruise login %s", s.server)
			}
			return false, fmt.Errorf("refresh the login to %s: %w", s.server, tokenError(err))
		}
		l.setToken(tok)
		s.tok = l.token()
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return s.tok, nil
}

// refreshLogin exchanges the refresh token of l for new tokens at the
// issuer's token endpoint (x/oauth2's refreshing token source).
func refreshLogin(ctx context.Context, l *serverLogin) (*oauth2.Token, error) {
	md, err := discoverIssuer(ctx, l.Issuer)
	if err != nil {
		return nil, err
	}
	cfg := &oauth2.Config{ClientID: l.ClientID, Endpoint: md.endpoint()}
	return cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: l.RefreshToken}).Token()
}

// APIOptions say whether a resource command goes through a cruise server's
// API instead of to the cluster.
type APIOptions struct {
	// Server is the cruise server to use (--server), one logged in to
	// with cruise login. Empty: the current server of the credentials
	// file, unless --kubeconfig or --context was given.
	Server string
	// CredentialsFile is cruise login's file; default
	// <user config dir>/cruise/credentials.json.
	CredentialsFile string
}

func (o *APIOptions) addFlags(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&o.Server, "server", o.Server,
		"work through this cruise server's API (default: the server of cruise login, unless --kubeconfig or --context is given)")
}

// apiSession is a logged-in client of one cruise server.
type apiSession struct {
	server string
	client *apiclient.Client
}

// session returns the API session the command should use, or nil when it
// should go to the cluster: with --server; else with a current server in
// the credentials file and neither --kubeconfig nor --context (kube is
// nil for commands that only work through the API). Errors are exit code 2.
func (o *APIOptions) session(ctx context.Context, kube *KubeOptions) (*apiSession, error) {
	explicitKube := kube != nil && (kube.Kubeconfig != "" || kube.Context != "")
	if o.Server != "" && explicitKube {
		return nil, fail(2, errors.New("--server cannot be combined with --kubeconfig or --context"))
	}
	if o.Server == "" && explicitKube {
		return nil, nil
	}
	store, err := openCredentials(o.CredentialsFile)
	if err != nil && o.Server == "" {
		return nil, nil // no config directory ($HOME unset): no login either
	} else if err != nil {
		return nil, fail(2, err)
	}
	c, err := store.load()
	if err != nil {
		return nil, fail(2, err)
	}
	server := c.Current
	if o.Server != "" {
		if server, err = normalizeServer(o.Server); err != nil {
			return nil, fail(2, fmt.Errorf("--server: %w", err))
		}
	}
	if server == "" {
		return nil, nil
	}
	login := c.Servers[server]
	if login == nil {
		return nil, fail(2, fmt.Errorf("not logged in to %s: run cruise login %s", server, server))
	}
	ts := newLoginTokenSource(ctx, store, server, login)
	client, err := apiclient.New(server, ts, apiclient.WithUserAgent("cruise/"+version))
	if err != nil {
		return nil, fail(2, err)
	}
	return &apiSession{server: server, client: client}, nil
}

// loggedInServers lists the servers of the file, sorted.
func (c *credentials) loggedInServers() []string {
	out := make([]string, 0, len(c.Servers))
	for s := range c.Servers {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
