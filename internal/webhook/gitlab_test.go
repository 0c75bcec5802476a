package webhook

import (
	"net/http"
	"testing"
)

func TestGitLab(t *testing.T) {
	pushBody := fixture(t, "gitlab-push.json")
	tagBody := fixture(t, "gitlab-tag-push.json")
	path := "/hook/" + gitlabName
	const delivery = "13792a34-cac6-4fda-95a8-c58e00a3954e"
	urls := []string{
		"https://gitlab.example.com/platform/infra/cluster-config.git",
		"git@gitlab.example.com:platform/infra/cluster-config.git",
		"https://gitlab.example.com/platform/infra/cluster-config",
	}
	event := func(ref string) []Event {
		return []Event{{Receiver: gitlabName, Provider: ProviderGitLab, RepoURLs: urls, Ref: ref, Delivery: delivery}}
	}
	malformed := []byte(`{"object_kind": "push", "project": [}`)

	runHookCases(t, []hookCase{
		{
			name: "Push Hook with the right token triggers once",
			req: request{path: path, body: pushBody, header: hdr(
				"X-Gitlab-Event", "Push Hook", "X-Gitlab-Event-UUID", delivery, "X-Gitlab-Token", gitlabSecret)},
			wantStatus: http.StatusAccepted,
			want:       event("refs/heads/main"),
		},
		{
			name: "Tag Push Hook triggers with the tag ref",
			req: request{path: path, body: tagBody, header: hdr(
				"X-Gitlab-Event", "Tag Push Hook", "Idempotency-Key", delivery, "X-Gitlab-Token", gitlabSecret)},
			wantStatus: http.StatusAccepted,
			want:       event("refs/tags/v2.3.0"),
		},
		{
			name: "System Hook carrying a push triggers",
			req: request{path: path, body: pushBody, header: hdr(
				"X-Gitlab-Event", "System Hook", "X-Gitlab-Event-UUID", delivery, "X-Gitlab-Token", gitlabSecret)},
			wantStatus: http.StatusAccepted,
			want:       event("refs/heads/main"),
		},
		{
			name: "System Hook about something else is ignored",
			req: request{path: path, body: []byte(`{"object_kind": "merge_request"}`), header: hdr(
				"X-Gitlab-Event", "System Hook", "X-Gitlab-Token", gitlabSecret)},
			wantStatus: http.StatusNoContent,
		},
		{
			name: "token of another receiver",
			req: request{path: path, body: pushBody, header: hdr(
				"X-Gitlab-Event", "Push Hook", "X-Gitlab-Token", githubSecret)},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "token that is a prefix of the secret",
			req: request{path: path, body: pushBody, header: hdr(
				"X-Gitlab-Event", "Push Hook", "X-Gitlab-Token", gitlabSecret[:len(gitlabSecret)-1])},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name:       "missing token",
			req:        request{path: path, body: pushBody, header: hdr("X-Gitlab-Event", "Push Hook")},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "a GitHub signature is no GitLab token",
			req: request{path: path, body: pushBody, header: hdr(
				"X-Gitlab-Event", "Push Hook", "X-Hub-Signature-256", hubSignature(gitlabSecret, pushBody))},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "Merge Request Hook is ignored",
			req: request{path: path, body: pushBody, header: hdr(
				"X-Gitlab-Event", "Merge Request Hook", "X-Gitlab-Token", gitlabSecret)},
			wantStatus: http.StatusNoContent,
		},
		{
			name: "malformed JSON with the right token",
			req: request{path: path, body: malformed, header: hdr(
				"X-Gitlab-Event", "Push Hook", "X-Gitlab-Token", gitlabSecret)},
			wantStatus: http.StatusBadRequest,
		},
		{
			name: "malformed System Hook with the right token",
			req: request{path: path, body: malformed, header: hdr(
				"X-Gitlab-Event", "System Hook", "X-Gitlab-Token", gitlabSecret)},
			wantStatus: http.StatusBadRequest,
		},
		{
			name: "PUT is not allowed",
			req: request{method: http.MethodPut, path: path, body: pushBody, header: hdr(
				"X-Gitlab-Event", "Push Hook", "X-Gitlab-Token", gitlabSecret)},
			wantStatus: http.StatusMethodNotAllowed,
		},
	})
}
