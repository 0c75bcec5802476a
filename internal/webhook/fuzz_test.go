package webhook

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzProviders are the protocols FuzzParsePayload feeds, by index.
var fuzzProviders = []Provider{ProviderGitHub, ProviderGitLab, ProviderGitea, ProviderGeneric}

// FuzzParsePayload feeds arbitrary bodies to every provider's event
// classifier and push parser, as the handler would after a valid
// signature. The seeds are the testdata fixtures, each under every
// provider, in both content types.
func FuzzParsePayload(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed fixtures: %v", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for i := range fuzzProviders {
			f.Add(uint8(i), false, b)
			f.Add(uint8(i), true, []byte("payload="+strings.ReplaceAll(string(b), "&", "%26")))
		}
	}
	f.Add(uint8(3), false, []byte(""))
	f.Add(uint8(1), false, []byte(`{"object_kind":"push","project":null}`))

	f.Fuzz(func(t *testing.T, which uint8, form bool, body []byte) {
		p, ok := providerFor(fuzzProviders[int(which)%len(fuzzProviders)])
		if !ok {
			t.Fatal("unknown provider")
		}
		h := http.Header{}
		if form {
			h.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		rcv := Receiver{Name: "fuzz", RepoURLs: genericRepoURLs}
		p.event(h, body)
		got, err := p.parse(rcv, h, body)
		if err != nil {
			if got.urls != nil || got.ref != "" {
				t.Errorf("error %v with a result %+v", err, got)
			}
			return
		}
		if len(got.urls) == 0 {
			t.Fatal("success without URLs")
		}
		seen := map[string]bool{}
		for _, u := range got.urls {
			if u == "" || u != strings.TrimSpace(u) || seen[u] {
				t.Errorf("bad URL list %q", got.urls)
			}
			seen[u] = true
		}
	})
}

// FuzzNormalizeURL checks that NormalizeURL never panics, is stable and
// never keeps user info.
func FuzzNormalizeURL(f *testing.F) {
	for _, s := range []string{
		"https://github.com/octo-org/deploy-config.git",
		"git@github.com:octo-org/deploy-config.git",
		"ssh://git@gitea.example.com:2222/infra/apps.git",
		"github.com/o/r",
		"https://[2001:db8::1]:8443/team/config.git",
		"/srv/git/config.git",
		"host/x://y",
		"[::1]:o/r",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizeURL(s)
		if again := NormalizeURL(n); again != n {
			t.Errorf("NormalizeURL(%q) = %q, then %q", s, n, again)
		}
		withPassword := "https://bot:s3cr3t@" + s
		if got := NormalizeURL(withPassword); strings.Contains(got, "s3cr3t") && !strings.Contains(strings.ToLower(s), "s3cr3t") {
			t.Errorf("NormalizeURL(%q) = %q keeps the password", withPassword, got)
		}
	})
}
