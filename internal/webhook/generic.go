package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// generic is cruise's own protocol, for CI jobs, scripts and forges
// without a dedicated provider:
//
//	POST /hook/<receiver>
//	X-Cruise-Signature: sha256=<hex HMAC-SHA256 of the body under the secret>
//	Content-Type: application/json
//
//	{"url": "https://git.example.com/team/config.git", "ref": "refs/heads/main"}
//
// The body is optional. Without one (the signature then covers the empty
// string) the receiver's RepoURLs are triggered; with one, "url" names the
// repository and "ref" the ref, both optional. When the receiver lists
// RepoURLs, "url" must be one of them (compared with NormalizeURL). The
// signature is GitHub's scheme under another header name, so any HMAC
// tool can produce it, e.g.
//
//	printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" -hex
type generic struct{}

func (generic) verify(secret []byte, h http.Header, body []byte) error {
	sig := h.Get("X-Cruise-Signature")
	if sig == "" {
		if len(secret) == 0 {
			return errNoSecret
		}
		return fmt.Errorf("X-Cruise-Signature: %w", errMissingSignature)
	}
	hexSig, ok := strings.CutPrefix(sig, "sha256=")
	if !ok {
		return fmt.Errorf("X-Cruise-Signature: %w", errBadSignature)
	}
	if err := verifyHexHMAC(secret, body, hexSig); err != nil {
		return fmt.Errorf("X-Cruise-Signature: %w", err)
	}
	return nil
}

func (generic) event(h http.Header, _ []byte) hookEvent {
	return hookEvent{kind: eventPush, name: "push", delivery: firstHeader(h, "X-Cruise-Delivery")}
}

// genericBody is the optional JSON body of a generic request.
type genericBody struct {
	URL string `json:"url"`
	Ref string `json:"ref"`
}

func (generic) parse(rcv Receiver, _ http.Header, body []byte) (push, error) {
	var b genericBody
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &b); err != nil {
			return push{}, fmt.Errorf("generic push: %w: %w", errMalformed, err)
		}
	}
	urls := rcv.RepoURLs
	if u := strings.TrimSpace(b.URL); u != "" {
		if len(rcv.RepoURLs) > 0 && !(Event{RepoURLs: rcv.RepoURLs}).Matches(u) {
			return push{}, fmt.Errorf("generic push: %w", errURLNotAllowed)
		}
		urls = []string{u}
	}
	out, err := newPush(b.Ref, urls...)
	if err != nil {
		return push{}, fmt.Errorf("generic push: %w", err)
	}
	return out, nil
}
