package webhook

import (
	"fmt"
	"net/http"
	"strings"
)

// gitea implements the webhook protocol of Gitea and of its fork Forgejo
// (https://docs.gitea.com/usage/webhooks, https://forgejo.org/docs/latest/user/webhooks/):
//
//   - X-Gitea-Signature or X-Forgejo-Signature: the hex HMAC-SHA256 of the
//     JSON payload under the secret, without a prefix (Forgejo sends both
//     headers with the same value; X-Forgejo-Signature is read first);
//   - X-Gitea-Event or X-Forgejo-Event: "push" triggers, anything else is
//     ignored (a branch or tag creation also sends a push);
//   - X-Gitea-Delivery or X-Forgejo-Delivery: a UUID per delivery;
//   - the payload has GitHub's shape: repository.clone_url, ssh_url,
//     html_url and ref; JSON or a form with a "payload" field.
//
// Unlike GitHub, Gitea and Forgejo sign the JSON document, not the request
// body: for form content the signed bytes are the "payload" field's value
// (services/webhook/deliver.go in both code bases).
//
// Both also send X-Hub-Signature-256 and X-GitHub-Event, so a receiver
// configured as "github" accepts their JSON deliveries too; this provider
// reads the headers they document as their own.
type gitea struct{}

func (gitea) verify(secret []byte, h http.Header, body []byte) error {
	name, sig := "X-Forgejo-Signature", h.Get("X-Forgejo-Signature")
	if sig == "" {
		name, sig = "X-Gitea-Signature", h.Get("X-Gitea-Signature")
	}
	signed, err := jsonPayload(h, body)
	if err != nil {
		signed = body // a malformed form; parse rejects it if it verifies
	}
	if err := verifyHexHMAC(secret, signed, strings.TrimPrefix(sig, "sha256=")); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func (gitea) event(h http.Header, _ []byte) hookEvent {
	ev := hookEvent{
		name:     firstHeader(h, "X-Forgejo-Event", "X-Gitea-Event"),
		delivery: firstHeader(h, "X-Forgejo-Delivery", "X-Gitea-Delivery"),
	}
	if ev.name == "push" {
		ev.kind = eventPush
	}
	return ev
}

func (gitea) parse(_ Receiver, h http.Header, body []byte) (push, error) {
	return parseGitHubShape("gitea", h, body)
}
