package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Webhook headers. The signature is the one cruise's own push webhooks
// verify (internal/webhook, generic receiver): "sha256=" and the lowercase
// hex HMAC-SHA256 of the raw body under the Provider's hmacKey.
const (
	HeaderSignature = "X-Cruise-Signature"
	HeaderEvent     = "X-Cruise-Event"
	HeaderDelivery  = "X-Cruise-Delivery"
)

// webhookSender POSTs each Event as the v1 JSON payload.
type webhookSender struct {
	url     string
	shown   string // url with its path and query hidden, for errors
	hmacKey []byte
	client  *http.Client
}

// NewWebhookSender makes the generic webhook Sender: POST, Content-Type
// application/json, the Event as the body (payload version v1), the
// X-Cruise-Signature header when the Secret has an hmacKey, and the
// event's id in X-Cruise-Delivery (the same on every retry). 2xx is
// delivered; 408, 429, 5xx and connection errors are retried (honouring
// Retry-After); other statuses, redirects included, are final.
func NewWebhookSender(cfg ProviderConfig) (Sender, error) {
	if cfg.Address == "" {
		return nil, errors.New("webhook: no address: set spec.address or the Secret's address key")
	}
	u, err := url.Parse(cfg.Address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The address may come from the Secret: never show it.
		return nil, errors.New("webhook: the address is not an http or https URL")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if len(cfg.CA) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(cfg.CA) {
			return nil, errors.New("webhook: the Secret's ca.crt holds no PEM certificate")
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &webhookSender{
		url: cfg.Address, shown: redactURL(cfg.Address), hmacKey: cfg.HMACKey,
		client: &http.Client{
			Transport: tr, Timeout: timeout,
			// A redirect would turn the POST into a GET elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// Sign is the X-Cruise-Signature value of body under key.
func Sign(key, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func (s *webhookSender) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(m.Event)
	if err != nil {
		return fmt.Errorf("webhook %s: encode event: %w", s.shown, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: %w", s.shown, errors.New("invalid request"))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cruise-notification/"+PayloadVersion)
	req.Header.Set(HeaderEvent, string(m.Event.Type))
	req.Header.Set(HeaderDelivery, m.Event.ID)
	if len(s.hmacKey) > 0 {
		req.Header.Set(HeaderSignature, Sign(s.hmacKey, body))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		err = fmt.Errorf("webhook %s: %w", s.shown, webhookTransportError(err))
		if webhookCertificateError(err) {
			return err // retrying will not make the certificate valid
		}
		return Retryable(err)
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("webhook %s: HTTP %d%s", s.shown, resp.StatusCode, webhookExcerpt(excerpt))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		if after, ok := webhookRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return &RetryAfterError{After: after, Err: err}
		}
		return Retryable(err)
	}
	return err
}

// webhookTransportError drops the URL that net/http puts in its errors
// (a chat webhook URL is a secret), keeping the cause.
func webhookTransportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Errorf("%s: timed out: %w", strings.ToUpper(ue.Op), context.DeadlineExceeded)
		}
		return fmt.Errorf("%s: %w", strings.ToUpper(ue.Op), ue.Err)
	}
	return err
}

// webhookCertificateError reports whether err is a server certificate that
// does not verify.
func webhookCertificateError(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci)
}

func webhookExcerpt(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if s == "" {
		return ""
	}
	return ": " + truncate(200, s)
}

// webhookRetryAfter reads a Retry-After header: seconds, or an HTTP date.
func webhookRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
