package webhook

import (
	"net/http"
	"net/url"
	"testing"
)

func TestGiteaAndForgejo(t *testing.T) {
	giteaBody := fixture(t, "gitea-push.json")
	forgejoBody := fixture(t, "forgejo-push.json")
	giteaPath, forgejoPath := "/hook/"+giteaName, "/hook/"+forgejoName
	const delivery = "f6266f16-1bf3-46a5-9ea4-602e06ead473"
	giteaEvent := []Event{{
		Receiver: giteaName,
		Provider: ProviderGitea,
		RepoURLs: []string{
			"https://gitea.example.com:3000/infra/apps.git",
			"ssh://git@gitea.example.com:2222/infra/apps.git",
			"https://gitea.example.com:3000/infra/apps",
		},
		Ref:      "refs/heads/release",
		Delivery: delivery,
	}}
	forgejoURLs := []string{
		"https://codeberg.org/garden/homelab.git",
		"git@codeberg.org:garden/homelab.git",
		"https://codeberg.org/garden/homelab",
	}
	giteaSig := SignBody([]byte(giteaSecret), giteaBody)
	form := []byte(url.Values{"payload": {string(giteaBody)}}.Encode())
	malformed := []byte(`{"ref": "refs/heads/main", "repository": "`)

	runHookCases(t, []hookCase{
		{
			name: "Gitea push with a valid signature triggers once",
			req: request{path: giteaPath, body: giteaBody, header: hdr(
				"X-Gitea-Event", "push", "X-Gitea-Delivery", delivery, "X-Gitea-Signature", giteaSig)},
			wantStatus: http.StatusAccepted,
			want:       giteaEvent,
		},
		{
			name: "Gitea form-encoded push is signed over the JSON payload",
			req: request{path: giteaPath, body: form, header: hdr(
				"Content-Type", "application/x-www-form-urlencoded",
				"X-Gitea-Event", "push", "X-Gitea-Delivery", delivery, "X-Gitea-Signature", giteaSig)},
			wantStatus: http.StatusAccepted,
			want:       giteaEvent,
		},
		{
			name: "Forgejo headers, as Forgejo sends them next to Gitea's",
			req: request{path: giteaPath, body: forgejoBody, header: hdr(
				"X-Forgejo-Event", "push", "X-Forgejo-Delivery", delivery,
				"X-Forgejo-Signature", SignBody([]byte(giteaSecret), forgejoBody),
				"X-Gitea-Event", "push", "X-Gitea-Delivery", delivery,
				"X-Gitea-Signature", SignBody([]byte(giteaSecret), forgejoBody))},
			wantStatus: http.StatusAccepted,
			want:       []Event{{Receiver: giteaName, Provider: ProviderGitea, RepoURLs: forgejoURLs, Ref: "refs/heads/main", Delivery: delivery}},
		},
		{
			name: "receiver configured as forgejo",
			req: request{path: forgejoPath, body: forgejoBody, header: hdr(
				"X-Forgejo-Event", "push", "X-Forgejo-Delivery", delivery,
				"X-Forgejo-Signature", SignBody([]byte(forgejoSecret), forgejoBody))},
			wantStatus: http.StatusAccepted,
			want:       []Event{{Receiver: forgejoName, Provider: ProviderForgejo, RepoURLs: forgejoURLs, Ref: "refs/heads/main", Delivery: delivery}},
		},
		{
			name: "signature made with another receiver's secret",
			req: request{path: giteaPath, body: giteaBody, header: hdr(
				"X-Gitea-Event", "push", "X-Gitea-Signature", SignBody([]byte(forgejoSecret), giteaBody))},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "valid Gitea signature but a wrong Forgejo one",
			req: request{path: giteaPath, body: giteaBody, header: hdr(
				"X-Gitea-Event", "push", "X-Gitea-Signature", giteaSig,
				"X-Forgejo-Signature", SignBody([]byte(githubSecret), giteaBody))},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name:       "missing signature",
			req:        request{path: giteaPath, body: giteaBody, header: hdr("X-Gitea-Event", "push")},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "form body signed over the raw form instead of the payload",
			req: request{path: giteaPath, body: form, header: hdr(
				"Content-Type", "application/x-www-form-urlencoded",
				"X-Gitea-Event", "push", "X-Gitea-Signature", SignBody([]byte(giteaSecret), form))},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "create event is ignored (the push that comes with it triggers)",
			req: request{path: giteaPath, body: giteaBody, header: hdr(
				"X-Gitea-Event", "create", "X-Gitea-Signature", giteaSig)},
			wantStatus: http.StatusNoContent,
		},
		{
			name: "malformed JSON with a valid signature",
			req: request{path: giteaPath, body: malformed, header: hdr(
				"X-Gitea-Event", "push", "X-Gitea-Signature", SignBody([]byte(giteaSecret), malformed))},
			wantStatus: http.StatusBadRequest,
		},
		{
			name: "GET, Gitea's other webhook method, is not allowed",
			req: request{method: http.MethodGet, path: giteaPath + "?payload=%7B%7D", header: hdr(
				"X-Gitea-Event", "push", "X-Gitea-Signature", SignBody([]byte(giteaSecret), []byte("{}")))},
			wantStatus: http.StatusMethodNotAllowed,
		},
	})
}
