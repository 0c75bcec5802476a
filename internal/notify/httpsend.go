package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// defaultAttemptTimeout bounds one delivery attempt when a Provider sets none.
const defaultAttemptTimeout = 15 * time.Second

// maxRetryAfter caps what a receiver's Retry-After can ask for: a buggy or
// hostile value must not park a Provider's queue for days.
const maxRetryAfter = time.Hour

// responseLimit bounds how much of a response body is read; receivers
// answer with a few bytes, and a hostile one must not fill memory.
const responseLimit = 64 << 10

// snippetLimit bounds how much of an error response shows in an error.
const snippetLimit = 200

// httpSender posts JSON to one receiver with the timeouts, trust and
// error classification every HTTP provider type shares. Its zero value is
// not usable: build it with newHTTPSender.
type httpSender struct {
	client  *http.Client
	timeout time.Duration
	// secrets are the strings no error may contain: the token and the
	// address (a chat webhook URL is a bearer credential) and its path.
	secrets []string
}

// newHTTPSender builds the client of one Provider: cfg.CA (when set)
// replaces the system roots, since a Provider naming its own CA means to
// trust that CA only; redirects are not followed, so a request carrying a
// token never lands somewhere it was not sent.
func newHTTPSender(cfg ProviderConfig) (*httpSender, error) {
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = defaultAttemptTimeout
	}
	tlsConfig, err := tlsClientConfig(cfg.CA)
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tlsConfig,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
	}
	// The attempt's context carries the overall timeout (see do).
	client := &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return &httpSender{client: client, timeout: timeout, secrets: secretsOf(cfg)}, nil
}

// tlsClientConfig trusts pemCA only when given, the system roots otherwise.
func tlsClientConfig(pemCA []byte) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(pemCA) == 0 {
		return c, nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemCA) {
		return nil, errors.New("ca.crt: no PEM certificate in it")
	}
	c.RootCAs = pool
	return c, nil
}

// secretsOf lists what must never appear in an error: the token, the
// password, and, except for git hosts whose address is a repository URL,
// the address's path and query (a webhook URL's credential part).
func secretsOf(cfg ProviderConfig) []string {
	var s []string
	for _, v := range []string{cfg.Token, cfg.Password} {
		if v != "" {
			s = append(s, v)
		}
	}
	switch cfg.Type {
	case TypeGitHub, TypeGitLab, TypeGitea:
		return s
	}
	if u, err := url.Parse(cfg.Address); err == nil && u.Host != "" {
		if len(u.Path) > 1 {
			s = append(s, u.Path, u.EscapedPath())
		}
		if u.RawQuery != "" {
			s = append(s, u.RawQuery)
		}
	}
	return s
}

// redact replaces every secret in s.
func (h *httpSender) redact(s string) string {
	for _, secret := range h.secrets {
		s = strings.ReplaceAll(s, secret, "***")
	}
	return s
}

// httpRequest is one call: where it goes, how it is shown in errors (the
// chat types show a redacted URL, since theirs is a credential), its
// headers and its JSON body.
type httpRequest struct {
	method  string
	url     string
	display string
	header  http.Header
	body    any
	// rateLimited, when set, recognises a receiver's own way of saying
	// "too many requests" besides 429 (GitHub answers 403), and when to
	// come back if it says so.
	rateLimited func(resp *http.Response, now time.Time) (after time.Duration, limited bool)
	// done, when set, recognises a non-2xx answer that means the request
	// had nothing to change (GitLab refuses to set a status it already
	// has).
	done func(status int, body []byte) bool
}

// httpResponse is what a successful call returned.
type httpResponse struct {
	status int
	header http.Header
	body   []byte
}

// do makes one attempt within the Provider's timeout and classifies its
// failure: a connection error, a timeout, 429 and 5xx are retryable (with
// the receiver's Retry-After when it sent one); a certificate problem, a
// redirect and any other 4xx are final.
func (h *httpSender) do(ctx context.Context, r httpRequest) (*httpResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	var body io.Reader
	if r.body != nil {
		data, err := json.Marshal(r.body)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encoding the payload: %w", r.method, r.display, err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		// url.Error would print the URL: keep the cause only.
		return nil, fmt.Errorf("%s %s: %s", r.method, r.display, h.redact(unwrapURLError(err).Error()))
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "cruise-notify")
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, h.transportError(ctx, r, err)
	}
	defer resp.Body.Close()
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, responseLimit))
	// Drain a little more so the connection can be reused; a receiver
	// sending megabytes gets its connection closed instead.
	_, _ = io.CopyN(io.Discard, resp.Body, responseLimit)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if readErr != nil {
			// The receiver took the request; a broken body after a 2xx
			// is not worth sending the message twice.
			data = nil
		}
		return &httpResponse{status: resp.StatusCode, header: resp.Header, body: data}, nil
	}
	if r.done != nil && readErr == nil && r.done(resp.StatusCode, data) {
		return &httpResponse{status: resp.StatusCode, header: resp.Header, body: data}, nil
	}
	return nil, h.statusError(r, resp, data)
}

// transportError classifies an error of http.Client.Do.
func (h *httpSender) transportError(ctx context.Context, r httpRequest, err error) error {
	cause := unwrapURLError(err)
	msg := fmt.Sprintf("%s %s: %s", r.method, r.display, h.redact(cause.Error()))
	var netErr net.Error
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return Retryable(fmt.Errorf("%s %s: %w", r.method, r.display, ctx.Err()))
	case ctx.Err() != nil || errors.As(cause, &netErr) && netErr.Timeout():
		return Retryable(fmt.Errorf("%s %s: no answer within %s (%s)", r.method, r.display, h.timeout, h.redact(cause.Error())))
	case isCertificateError(cause):
		return errors.New(msg)
	default:
		return Retryable(errors.New(msg))
	}
}

// isCertificateError says whether err is a TLS trust failure, which
// retrying does not cure.
func isCertificateError(err error) bool {
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &verify) || errors.As(err, &unknown) ||
		errors.As(err, &hostname) || errors.As(err, &invalid)
}

// unwrapURLError drops the url.Error layer, whose message carries the URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// statusError turns a non-2xx answer into an error naming the status and
// the start of the body, with the secrets taken out.
func (h *httpSender) statusError(r httpRequest, resp *http.Response, body []byte) error {
	err := fmt.Errorf("%s %s: %s", r.method, r.display, resp.Status)
	if s := h.redact(bodySnippet(body)); s != "" {
		err = fmt.Errorf("%w: %s", err, s)
	}
	now := time.Now()
	if r.rateLimited != nil {
		if after, limited := r.rateLimited(resp, now); limited {
			if after > 0 {
				return &RetryAfterError{After: min(after, maxRetryAfter), Err: err}
			}
			return Retryable(err)
		}
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests || code >= 500:
		if after, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
			return &RetryAfterError{After: after, Err: err}
		}
		return Retryable(err)
	default:
		return err
	}
}

// parseRetryAfter reads an HTTP Retry-After value, delay-seconds or an
// HTTP-date (RFC 9110 section 10.2.3); ok is false when there is none or
// it cannot be read. The delay is capped at maxRetryAfter.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var after time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		after = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		after = max(t.Sub(now), 0)
	} else {
		return 0, false
	}
	return min(after, maxRetryAfter), true
}

// bodySnippet is the start of a response body on one line, for errors.
func bodySnippet(body []byte) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "")), " ")
	return cutRunes(s, snippetLimit)
}

// cutRunes cuts s to at most n runes, marking the cut with an ellipsis.
func cutRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return string(runes[:n-1]) + "…"
}

// parseWebhookURL checks a chat address: an absolute http(s) URL with a
// host. The message never shows the URL, which is a credential.
func parseWebhookURL(typ, address string) (*url.URL, error) {
	if address == "" {
		return nil, fmt.Errorf("%s: address is required (the webhook URL, usually from the Secret's \"address\" key)", typ)
	}
	u, err := url.Parse(address)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%s: address is not an http(s) URL with a host", typ)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%s: address must not carry user information; put credentials in the Secret", typ)
	}
	return u, nil
}
