package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/cruisegitops/cruise/internal/server/apiv1"
	"github.com/cruisegitops/cruise/oauth/loopback"
)

// Defaults of the Options.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultMaxResponseBytes = 32 << 20
)

// Client calls one cruise server. It is safe for concurrent use when its
// token source is.
type Client struct {
	base      *url.URL // scheme and host, path without trailing slash
	server    string   // base as given, for messages
	ts        oauth2.TokenSource
	hc        *http.Client
	maxBody   int64
	userAgent string
}

// Option adjusts a Client made by New.
type Option func(*Client)

// WithTimeout bounds each call, from sending the request to reading the
// whole response; default DefaultTimeout. d <= 0 keeps the default.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.hc.Timeout = d
		}
	}
}

// WithTransport sets the round tripper (default http.DefaultTransport),
// for example one that trusts a private CA.
func WithTransport(rt http.RoundTripper) Option {
	return func(c *Client) {
		if rt != nil {
			c.hc.Transport = rt
		}
	}
}

// WithMaxResponseBytes bounds the size of a response body; default
// DefaultMaxResponseBytes. n <= 0 keeps the default.
func WithMaxResponseBytes(n int64) Option {
	return func(c *Client) {
		if n > 0 {
			c.maxBody = n
		}
	}
}

// WithUserAgent sets the User-Agent header; default "cruise".
func WithUserAgent(ua string) Option {
	return func(c *Client) {
		if ua != "" {
			c.userAgent = ua
		}
	}
}

// New returns a client of the server at baseURL (https://cruise.example.com,
// or a path prefix it is served under). ts supplies access tokens; it may
// be nil for a client that only calls AuthConfig.
func New(baseURL string, ts oauth2.TokenSource, opts ...Option) (*Client, error) {
	u, err := CheckURL(baseURL)
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" {
		return nil, fmt.Errorf("server URL %q must have no query", baseURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	c := &Client{
		base:   u,
		server: u.String(),
		ts:     ts,
		hc: &http.Client{
			Timeout: DefaultTimeout,
			// A redirect would take the token to a URL nobody checked.
			CheckRedirect: func(req *http.Request, _ []*http.Request) error {
				return fmt.Errorf("the server redirected to %s; redirects are not followed", req.URL.Redacted())
			},
		},
		maxBody:   DefaultMaxResponseBytes,
		userAgent: "cruise",
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Server returns the server's base URL.
func (c *Client) Server() string { return c.server }

// CheckURL parses raw as the URL of a cruise server or an OAuth endpoint:
// absolute, https, or http only to a loopback address; no user info and
// no fragment.
func CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid URL: %w", err)
	}
	shown := u.Redacted() // never a password in messages
	if !u.IsAbs() || u.Host == "" {
		return nil, fmt.Errorf("invalid URL %q: want an absolute https URL", shown)
	}
	if u.User != nil || u.Fragment != "" {
		return nil, fmt.Errorf("invalid URL %q: user info and fragments are not allowed", shown)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback.IsHost(u.Hostname()) {
			return nil, fmt.Errorf("invalid URL %q: plain http is allowed only to a loopback address (127.0.0.1, ::1, localhost); use https", shown)
		}
	default:
		return nil, fmt.Errorf("invalid URL %q: scheme must be https", shown)
	}
	return u, nil
}

// call is one API request: what it does, to which application, and where.
type call struct {
	method string
	path   string // under /api/v1, escaped
	query  url.Values
	body   any // JSON; nil sends none
	op     string
	app    string // "namespace/name", or ""
	auth   bool
}

// send makes the call r and returns its decoded answer.
func send[T any](ctx context.Context, c *Client, r call) (*T, error) {
	var out T
	if err := c.do(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// do sends r and decodes a 2xx JSON answer into out.
func (c *Client) do(ctx context.Context, r call, out any) error {
	u := *c.base
	u.RawPath = c.base.EscapedPath() + "/api/v1" + r.path
	p, err := url.PathUnescape(u.RawPath)
	if err != nil {
		return c.wrap(r, err)
	}
	u.Path = p
	if len(r.query) > 0 {
		u.RawQuery = r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return c.wrap(r, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return c.wrap(r, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.auth {
		if c.ts == nil {
			return c.wrap(r, errors.New("not logged in (no token source)"))
		}
		tok, err := c.ts.Token()
		if err != nil {
			return c.wrap(r, err)
		}
		if tok.AccessToken == "" {
			return c.wrap(r, errors.New("the token source returned no access token"))
		}
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.wrap(r, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return c.wrap(r, fmt.Errorf("read response: %w", err))
	}
	if int64(len(data)) > c.maxBody {
		return c.wrap(r, fmt.Errorf("the response is larger than %d bytes", c.maxBody))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.apiError(r, resp, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return c.wrap(r, fmt.Errorf("decode the %s response: %w", resp.Header.Get("Content-Type"), err))
	}
	return nil
}

// apiError turns a non-2xx answer into an *Error. A body that is not an
// apiv1.ErrorResponse (a proxy's page) gives a message from the status
// and the body's first line.
func (c *Client) apiError(r call, resp *http.Response, data []byte) *Error {
	e := &Error{Server: c.server, Op: r.op, App: r.app, Status: resp.StatusCode}
	var er apiv1.ErrorResponse
	if json.Unmarshal(data, &er) == nil && (er.Error.Code != "" || er.Error.Message != "") {
		e.API = er.Error
		return e
	}
	msg := strings.Join(strings.Fields(string(data)), " ")
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	e.API.Message = msg
	return e
}

// wrap names the server, the operation and the application in an error
// that is not an answer of the API.
func (c *Client) wrap(r call, err error) error {
	return fmt.Errorf("%s: %s: %w", c.server, r.what(), err)
}

func (r call) what() string {
	if r.app == "" {
		return r.op
	}
	return r.op + " " + r.app
}
