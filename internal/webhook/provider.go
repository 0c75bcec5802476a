package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Verification failures. Their text names the header, never its value.
var (
	errNoSecret         = errors.New("receiver has no secret")
	errMissingSignature = errors.New("signature header missing")
	errBadSignature     = errors.New("signature does not match")
)

// Payload failures after a valid signature.
var (
	// errMalformed: the body is not the JSON the provider documents (400).
	errMalformed = errors.New("malformed payload")
	// errNoRepository: the payload names no repository (400).
	errNoRepository = errors.New("payload names no repository")
	// errURLNotAllowed: a generic request names a repository outside the
	// receiver's RepoURLs (403).
	errURLNotAllowed = errors.New("repository not allowed for this receiver")
)

// eventKind is what the handler does with a verified request.
type eventKind int

const (
	eventIgnored eventKind = iota // 204, nothing triggered
	eventPing                     // 200, nothing triggered
	eventPush                     // parse, trigger, 202
)

// hookEvent is what a provider reads from a verified request's headers.
type hookEvent struct {
	kind     eventKind
	name     string // the event header's value, for logs
	delivery string // the provider's delivery id, for logs
}

// push is what a provider reads from a push payload.
type push struct {
	urls []string
	ref  string
}

// provider is one sender's protocol: how it signs, how it names events and
// where its push payload keeps the repository URLs.
type provider interface {
	// verify checks the request's signature or token over the exact
	// body bytes with the receiver's secret.
	verify(secret []byte, h http.Header, body []byte) error
	// event classifies a verified request.
	event(h http.Header, body []byte) hookEvent
	// parse reads a push payload.
	parse(rcv Receiver, h http.Header, body []byte) (push, error)
}

// providerFor returns the protocol of p.
func providerFor(p Provider) (provider, bool) {
	switch p {
	case ProviderGitHub:
		return github{}, true
	case ProviderGitLab:
		return gitlab{}, true
	case ProviderGitea, ProviderForgejo:
		return gitea{}, true
	case ProviderGeneric:
		return generic{}, true
	}
	return nil, false
}

// verifyHexHMAC checks that sig is the hex HMAC-SHA256 of body under
// secret. The hex is decoded first and the raw MACs compared with
// hmac.Equal, so the comparison is constant-time and case-insensitive.
func verifyHexHMAC(secret, body []byte, sig string) error {
	if len(secret) == 0 {
		return errNoSecret
	}
	if sig == "" {
		return errMissingSignature
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return errBadSignature
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return errBadSignature
	}
	return nil
}

// verifyToken compares a token sent in clear with secret. Both are hashed
// first so that the comparison takes the same time whatever their lengths.
func verifyToken(secret []byte, token string) error {
	if len(secret) == 0 {
		return errNoSecret
	}
	if token == "" {
		return errMissingSignature
	}
	want, got := sha256.Sum256(secret), sha256.Sum256([]byte(token))
	if !hmac.Equal(want[:], got[:]) {
		return errBadSignature
	}
	return nil
}

// SignBody returns the hex HMAC-SHA256 of body under secret: the value of
// X-Gitea-Signature and X-Forgejo-Signature, and, after "sha256=", of
// X-Hub-Signature-256 and X-Cruise-Signature. Senders of generic webhooks
// and tests use it.
func SignBody(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// jsonPayload returns the JSON document of a request: the body itself, or
// for application/x-www-form-urlencoded (a content type GitHub and Gitea
// offer) the "payload" form field. The signature always covers the raw
// body, so this runs after verification.
func jsonPayload(h http.Header, body []byte) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return body, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("%w: form body: %w", errMalformed, err)
	}
	if !form.Has("payload") {
		return nil, fmt.Errorf("%w: form body has no payload field", errMalformed)
	}
	return []byte(form.Get("payload")), nil
}

// newPush collects the non-empty, distinct URLs of a payload, in order.
func newPush(ref string, urls ...string) (push, error) {
	p := push{ref: strings.TrimSpace(ref)}
	for _, u := range urls {
		u = strings.TrimSpace(u)
		if u == "" || slices.Contains(p.urls, u) {
			continue
		}
		p.urls = append(p.urls, u)
	}
	if len(p.urls) == 0 {
		return push{}, errNoRepository
	}
	return p, nil
}

// firstHeader returns the first non-empty value among the named headers,
// cut to a length fit for a log line.
func firstHeader(h http.Header, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(h.Get(n)); v != "" {
			if len(v) > 128 {
				v = v[:128]
			}
			return v
		}
	}
	return ""
}
