package webhook

import (
	"net/http"
	"net/url"
	"testing"
)

func TestGitHub(t *testing.T) {
	pushBody := fixture(t, "github-push.json")
	pingBody := fixture(t, "github-ping.json")
	path := "/hook/" + githubName
	const delivery = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
	want := []Event{{
		Receiver: githubName,
		Provider: ProviderGitHub,
		RepoURLs: []string{
			"https://github.com/octo-org/deploy-config.git",
			"git@github.com:octo-org/deploy-config.git",
			"https://github.com/octo-org/deploy-config",
		},
		Ref:      "refs/heads/main",
		Delivery: delivery,
	}}
	form := []byte(url.Values{"payload": {string(pushBody)}}.Encode())
	malformed := []byte(`{"ref": "refs/heads/main", "repository": {`)
	noRepo := []byte(`{"ref": "refs/heads/main", "repository": {}}`)

	runHookCases(t, []hookCase{
		{
			name: "push with a valid signature triggers once",
			req: request{path: path, body: pushBody, header: hdr(
				"X-GitHub-Event", "push", "X-GitHub-Delivery", delivery,
				"X-Hub-Signature-256", hubSignature(githubSecret, pushBody))},
			wantStatus: http.StatusAccepted,
			want:       want,
		},
		{
			name: "form-encoded push is signed over the raw body",
			req: request{path: path, body: form, header: hdr(
				"Content-Type", "application/x-www-form-urlencoded",
				"X-GitHub-Event", "push", "X-GitHub-Delivery", delivery,
				"X-Hub-Signature-256", hubSignature(githubSecret, form))},
			wantStatus: http.StatusAccepted,
			want:       want,
		},
		{
			name: "upper-case hex signature is the same signature",
			req: request{path: path, body: pushBody, header: hdr(
				"X-GitHub-Event", "push", "X-GitHub-Delivery", delivery,
				"X-Hub-Signature-256", "sha256="+upperHex(SignBody([]byte(githubSecret), pushBody)))},
			wantStatus: http.StatusAccepted,
			want:       want,
		},
		{
			name: "signature made with another receiver's secret",
			req: request{path: path, body: pushBody, header: hdr(
				"X-GitHub-Event", "push", "X-Hub-Signature-256", hubSignature(giteaSecret, pushBody))},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "signature of a different body",
			req: request{path: path, body: pushBody, header: hdr(
				"X-GitHub-Event", "push", "X-Hub-Signature-256", hubSignature(githubSecret, pingBody))},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name:       "missing signature header",
			req:        request{path: path, body: pushBody, header: hdr("X-GitHub-Event", "push")},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "signature without the sha256= prefix",
			req: request{path: path, body: pushBody, header: hdr(
				"X-GitHub-Event", "push", "X-Hub-Signature-256", SignBody([]byte(githubSecret), pushBody))},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "signature that is not hex",
			req: request{path: path, body: pushBody, header: hdr(
				"X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256=zz")},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "legacy SHA-1 signature alone is refused",
			req: request{path: path, body: pushBody, header: hdr(
				"X-GitHub-Event", "push", "X-Hub-Signature", "sha1=0123456789abcdef0123456789abcdef01234567")},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "ping is acknowledged without trigger",
			req: request{path: path, body: pingBody, header: hdr(
				"X-GitHub-Event", "ping", "X-Hub-Signature-256", hubSignature(githubSecret, pingBody))},
			wantStatus: http.StatusOK,
		},
		{
			name: "ping with a bad signature is refused",
			req: request{path: path, body: pingBody, header: hdr(
				"X-GitHub-Event", "ping", "X-Hub-Signature-256", hubSignature(gitlabSecret, pingBody))},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "other event is ignored",
			req: request{path: path, body: pushBody, header: hdr(
				"X-GitHub-Event", "issues", "X-Hub-Signature-256", hubSignature(githubSecret, pushBody))},
			wantStatus: http.StatusNoContent,
		},
		{
			name: "malformed JSON with a valid signature",
			req: request{path: path, body: malformed, header: hdr(
				"X-GitHub-Event", "push", "X-Hub-Signature-256", hubSignature(githubSecret, malformed))},
			wantStatus: http.StatusBadRequest,
		},
		{
			name: "payload without repository URLs",
			req: request{path: path, body: noRepo, header: hdr(
				"X-GitHub-Event", "push", "X-Hub-Signature-256", hubSignature(githubSecret, noRepo))},
			wantStatus: http.StatusBadRequest,
		},
		{
			name: "GET is not allowed",
			req: request{method: http.MethodGet, path: path, header: hdr(
				"X-GitHub-Event", "push", "X-Hub-Signature-256", hubSignature(githubSecret, nil))},
			wantStatus: http.StatusMethodNotAllowed,
		},
	})
}

func upperHex(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
