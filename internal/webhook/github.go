package webhook

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// github implements GitHub's webhook protocol
// (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries,
// https://docs.github.com/en/webhooks/webhook-events-and-payloads#push):
//
//   - X-Hub-Signature-256: "sha256=" and the hex HMAC-SHA256 of the body
//     under the webhook secret (the SHA-1 X-Hub-Signature is not accepted);
//   - X-GitHub-Event: "push" triggers, "ping" (sent when the hook is
//     created) is acknowledged, anything else is ignored;
//   - X-GitHub-Delivery: a GUID per delivery;
//   - the body is JSON, or a form with the JSON in its "payload" field.
type github struct{}

func (github) verify(secret []byte, h http.Header, body []byte) error {
	sig := h.Get("X-Hub-Signature-256")
	if sig == "" {
		if len(secret) == 0 {
			return errNoSecret
		}
		return fmt.Errorf("X-Hub-Signature-256: %w", errMissingSignature)
	}
	hexSig, ok := strings.CutPrefix(sig, "sha256=")
	if !ok {
		return fmt.Errorf("X-Hub-Signature-256: %w", errBadSignature)
	}
	if err := verifyHexHMAC(secret, body, hexSig); err != nil {
		return fmt.Errorf("X-Hub-Signature-256: %w", err)
	}
	return nil
}

func (github) event(h http.Header, _ []byte) hookEvent {
	ev := hookEvent{name: firstHeader(h, "X-GitHub-Event"), delivery: firstHeader(h, "X-GitHub-Delivery")}
	switch ev.name {
	case "push":
		ev.kind = eventPush
	case "ping":
		ev.kind = eventPing
	}
	return ev
}

// githubRepository is the part of a GitHub or Gitea push payload's
// "repository" object that names the repository.
type githubRepository struct {
	CloneURL string `json:"clone_url"`
	SSHURL   string `json:"ssh_url"`
	HTMLURL  string `json:"html_url"`
}

type githubPush struct {
	Ref        string           `json:"ref"`
	Repository githubRepository `json:"repository"`
}

func (github) parse(_ Receiver, h http.Header, body []byte) (push, error) {
	return parseGitHubShape("github", h, body)
}

// parseGitHubShape reads the payload GitHub, Gitea and Forgejo share.
func parseGitHubShape(name string, h http.Header, body []byte) (push, error) {
	doc, err := jsonPayload(h, body)
	if err != nil {
		return push{}, fmt.Errorf("%s push: %w", name, err)
	}
	var p githubPush
	if err := json.Unmarshal(doc, &p); err != nil {
		return push{}, fmt.Errorf("%s push: %w: %w", name, errMalformed, err)
	}
	r := p.Repository
	out, err := newPush(p.Ref, r.CloneURL, r.SSHURL, r.HTMLURL)
	if err != nil {
		return push{}, fmt.Errorf("%s push: %w", name, err)
	}
	return out, nil
}
