package oauth

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzParseParams: the parameter parser refuses exactly the repeated
// parameters and never returns an empty value.
func FuzzParseParams(f *testing.F) {
	for _, s := range []string{"", "a=1&b=2", "a=1&a=2", "a=&a=", "grant_type=password&grant_type=", "%zz", "scope=openid+email&state=%26"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		vals, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		p, e := parseParams(vals)
		repeated := false
		for _, v := range vals {
			repeated = repeated || len(v) > 1
		}
		if (e != nil) != repeated {
			t.Fatalf("parseParams(%q) error %v, repeated %v", raw, e, repeated)
		}
		for k, v := range p {
			if v == "" || vals.Get(k) != v {
				t.Fatalf("parseParams(%q)[%q] = %q", raw, k, v)
			}
		}
	})
}

// FuzzRedirectURIMatches: two different URIs match only as an http
// loopback IP literal that differs in nothing but the port.
func FuzzRedirectURIMatches(f *testing.F) {
	for _, p := range [][2]string{
		{"http://127.0.0.1/cb", "http://127.0.0.1:1234/cb"},
		{"http://[::1]/cb", "http://[::1]:80/cb"},
		{"http://127.0.0.1/cb", "http://127.0.0.1:80@evil.example/cb"},
		{"https://app.example/cb", "https://app.example/cb/"},
		{"http://127.0.0.1:1/cb?x=1", "http://127.0.0.1:2/cb?x=1"},
	} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, registered, requested string) {
		if !RedirectURIMatches(registered, requested) || registered == requested {
			return
		}
		reg, err1 := url.Parse(registered)
		req, err2 := url.Parse(requested)
		if err1 != nil || err2 != nil || reg.Scheme != "http" || req.Scheme != "http" || !isLoopbackIP(reg.Hostname()) ||
			reg.Hostname() != req.Hostname() || reg.EscapedPath() != req.EscapedPath() || reg.RawQuery != req.RawQuery ||
			reg.User != nil || req.User != nil {
			t.Fatalf("%q matched %q", requested, registered)
		}
	})
}

// FuzzParseBasic: decoded credentials never contain an unescaped form
// encoding and the client ID is never empty.
func FuzzParseBasic(f *testing.F) {
	for _, s := range []string{"Basic YTpi", "basic YTpi", "Basic", "Bearer x", "Basic JTNBOiU=", "Basic Og=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		id, _, err := parseBasic(h)
		if err == nil && id == "" {
			t.Fatalf("parseBasic(%q) accepted an empty client ID", h)
		}
	})
}

// FuzzUserCode: normalised user codes are always XXXX-XXXX or empty.
func FuzzUserCode(f *testing.F) {
	for _, s := range []string{"bcdf-ghjk", "BCDFGHJK", " b c d f g h j k ", "short", "ééééééé"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := normalizeUserCode(s)
		if n != "" && (len(n) != 9 || n[4] != '-' || strings.ToUpper(n) != n) {
			t.Fatalf("normalizeUserCode(%q) = %q", s, n)
		}
	})
}
