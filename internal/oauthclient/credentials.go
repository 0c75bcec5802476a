package oauthclient

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/cruisegitops/cruise/internal/apiclient"
)

// Credentials is the content of a Store's file: the login of each server,
// and the current one.
type Credentials struct {
	// Current is the server commands use when none is named.
	Current string `json:"current,omitempty"`
	// Servers are keyed by the normalised server URL (NormalizeServer).
	Servers map[string]*Login `json:"servers"`
}

// LoggedInServers lists the servers of c, sorted.
func (c *Credentials) LoggedInServers() []string {
	out := make([]string, 0, len(c.Servers))
	for s := range c.Servers {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Login is one server's login: who issued its tokens to which client,
// and the tokens. Its String and GoString leave the tokens out, so that
// printing one by mistake shows none.
type Login struct {
	Issuer       string    `json:"issuer"`
	ClientID     string    `json:"clientID"`
	AccessToken  string    `json:"accessToken"`
	RefreshToken string    `json:"refreshToken,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
}

// NewLogin is the login that tok from issuer to clientID starts.
func NewLogin(issuer, clientID string, tok *oauth2.Token) *Login {
	l := &Login{Issuer: issuer, ClientID: clientID}
	l.SetToken(tok)
	return l
}

// Token is the login's tokens as x/oauth2 holds them.
func (l *Login) Token() *oauth2.Token {
	return &oauth2.Token{AccessToken: l.AccessToken, TokenType: "Bearer", RefreshToken: l.RefreshToken, Expiry: l.Expiry}
}

// SetToken stores tok, keeping the old refresh token when the answer
// carries none.
func (l *Login) SetToken(tok *oauth2.Token) {
	l.AccessToken, l.Expiry = tok.AccessToken, tok.Expiry
	if tok.RefreshToken != "" {
		l.RefreshToken = tok.RefreshToken
	}
}

func (l Login) String() string {
	return fmt.Sprintf("login at %s as client %s (tokens redacted)", l.Issuer, l.ClientID)
}

func (l Login) GoString() string { return "oauthclient.Login{" + l.String() + "}" }

// NormalizeServer checks a server URL (https, or http to a loopback
// address) and returns its canonical form, the key in the credentials
// file: no trailing slash, lower-case scheme and host.
func NormalizeServer(raw string) (string, error) {
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
