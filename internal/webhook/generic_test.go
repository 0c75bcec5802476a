package webhook

import (
	"net/http"
	"testing"
)

func TestGeneric(t *testing.T) {
	body := fixture(t, "generic-push.json")
	path, openPath := "/hook/"+genericName, "/hook/"+genericOpenName
	outside := []byte(`{"url": "https://git.example.net/other/repo.git"}`)
	sshSpelling := []byte(`{"url": "ssh://git@git.example.net/team/config", "ref": "refs/tags/v1.0.0"}`)
	malformed := []byte(`{"url": `)
	sig := func(b []byte) http.Header { return hdr("X-Cruise-Signature", hubSignature(genericSecret, b)) }

	runHookCases(t, []hookCase{
		{
			name:       "no body triggers the configured RepoURLs",
			req:        request{path: path, header: sig(nil)},
			wantStatus: http.StatusAccepted,
			want:       []Event{{Receiver: genericName, Provider: ProviderGeneric, RepoURLs: genericRepoURLs}},
		},
		{
			name:       "body naming a configured repository triggers it with its ref",
			req:        request{path: path, body: body, header: sig(body)},
			wantStatus: http.StatusAccepted,
			want: []Event{{Receiver: genericName, Provider: ProviderGeneric,
				RepoURLs: []string{"https://git.example.net/team/config.git"}, Ref: "refs/heads/main"}},
		},
		{
			name:       "another spelling of a configured repository is allowed",
			req:        request{path: path, body: sshSpelling, header: sig(sshSpelling)},
			wantStatus: http.StatusAccepted,
			want: []Event{{Receiver: genericName, Provider: ProviderGeneric,
				RepoURLs: []string{"ssh://git@git.example.net/team/config"}, Ref: "refs/tags/v1.0.0"}},
		},
		{
			name:       "body naming a repository outside RepoURLs is forbidden",
			req:        request{path: path, body: outside, header: sig(outside)},
			wantStatus: http.StatusForbidden,
		},
		{
			name:       "receiver without RepoURLs accepts any URL",
			req:        request{path: openPath, body: outside, header: sig(outside)},
			wantStatus: http.StatusAccepted,
			want: []Event{{Receiver: genericOpenName, Provider: ProviderGeneric,
				RepoURLs: []string{"https://git.example.net/other/repo.git"}}},
		},
		{
			name:       "receiver without RepoURLs and no body names nothing",
			req:        request{path: openPath, header: sig(nil)},
			wantStatus: http.StatusBadRequest,
		},
		{
			name:       "missing signature",
			req:        request{path: path},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name:       "signature of the empty body sent with a body",
			req:        request{path: path, body: outside, header: sig(nil)},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name:       "signature made with another receiver's secret",
			req:        request{path: path, body: body, header: hdr("X-Cruise-Signature", hubSignature(githubSecret, body))},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name:       "GitHub's header is not the generic one",
			req:        request{path: path, body: body, header: hdr("X-Hub-Signature-256", hubSignature(genericSecret, body))},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name:       "malformed JSON with a valid signature",
			req:        request{path: path, body: malformed, header: sig(malformed)},
			wantStatus: http.StatusBadRequest,
		},
	})
}
