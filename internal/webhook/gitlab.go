package webhook

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// gitlab implements GitLab's webhook protocol
// (https://docs.gitlab.com/user/project/integrations/webhooks/,
// https://docs.gitlab.com/user/project/integrations/webhook_events/#push-events):
//
//   - X-Gitlab-Token: the secret token itself, sent in clear (GitLab does
//     not sign the body), compared in constant time;
//   - X-Gitlab-Event: "Push Hook" and "Tag Push Hook" trigger; a
//     "System Hook" triggers when its object_kind is "push" or "tag_push";
//     anything else is ignored;
//   - X-Gitlab-Event-UUID (or Idempotency-Key): the delivery id;
//   - the JSON payload names the repository in project.git_http_url,
//     project.git_ssh_url and project.web_url, and again in the deprecated
//     repository object.
//
// GitLab's optional HMAC signing token (webhook-signature, Standard
// Webhooks format) is behind a feature flag and not supported yet.
type gitlab struct{}

func (gitlab) verify(secret []byte, h http.Header, _ []byte) error {
	if err := verifyToken(secret, h.Get("X-Gitlab-Token")); err != nil {
		return fmt.Errorf("X-Gitlab-Token: %w", err)
	}
	return nil
}

func (gitlab) event(h http.Header, body []byte) hookEvent {
	ev := hookEvent{
		name:     firstHeader(h, "X-Gitlab-Event"),
		delivery: firstHeader(h, "X-Gitlab-Event-UUID", "Idempotency-Key"),
	}
	switch ev.name {
	case "Push Hook", "Tag Push Hook":
		ev.kind = eventPush
	case "System Hook":
		var kind struct {
			ObjectKind string `json:"object_kind"`
		}
		err := json.Unmarshal(body, &kind)
		if err != nil || kind.ObjectKind == "push" || kind.ObjectKind == "tag_push" {
			ev.kind = eventPush // a malformed body is reported by parse
		}
	}
	return ev
}

type gitlabPush struct {
	Ref     string `json:"ref"`
	Project struct {
		GitHTTPURL string `json:"git_http_url"`
		GitSSHURL  string `json:"git_ssh_url"`
		WebURL     string `json:"web_url"`
	} `json:"project"`
	Repository struct {
		GitHTTPURL string `json:"git_http_url"`
		GitSSHURL  string `json:"git_ssh_url"`
		Homepage   string `json:"homepage"`
	} `json:"repository"`
}

func (gitlab) parse(_ Receiver, _ http.Header, body []byte) (push, error) {
	var p gitlabPush
	if err := json.Unmarshal(body, &p); err != nil {
		return push{}, fmt.Errorf("gitlab push: %w: %w", errMalformed, err)
	}
	out, err := newPush(p.Ref,
		p.Project.GitHTTPURL, p.Project.GitSSHURL, p.Project.WebURL,
		p.Repository.GitHTTPURL, p.Repository.GitSSHURL, p.Repository.Homepage)
	if err != nil {
		return push{}, fmt.Errorf("gitlab push: %w", err)
	}
	return out, nil
}
