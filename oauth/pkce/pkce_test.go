package pkce

import (
	"strings"
	"testing"
)

func TestVerify(t *testing.T) {
	// Challenge computed independently: openssl dgst -sha256 -binary | base64url.
	const verifier = "cruise-pkce-test-verifier-0123456789-abcdefghijk"
	const challenge = "ZH2Ri2Ww1vGSxJbCvXtyurEQOfBHXDyCyCFoslbxFzM"
	for _, tc := range []struct {
		name, verifier, challenge string
		want                      bool
	}{
		{"known pair", verifier, challenge, true},
		{"wrong verifier", verifier[:42] + "k", challenge, false},
		{"plain (verifier as challenge)", verifier, verifier, false},
		{"too short", "abc", Challenge("abc"), false},
		{"too long", strings.Repeat("a", 129), Challenge(strings.Repeat("a", 129)), false},
		{"bad charset", strings.Repeat("a", 42) + "+", Challenge(strings.Repeat("a", 42) + "+"), false},
		{"longest", strings.Repeat("~", 128), Challenge(strings.Repeat("~", 128)), true},
		{"empty", "", "", false},
	} {
		if got := Verify(tc.verifier, tc.challenge); got != tc.want {
			t.Errorf("%s: Verify = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestValidChallenge(t *testing.T) {
	for c, want := range map[string]bool{
		"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM":  true,
		"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM=": false,
		"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM":  false,
		"short": false,
	} {
		if got := ValidChallenge(c); got != want {
			t.Errorf("ValidChallenge(%q) = %v, want %v", c, got, want)
		}
	}
}

func FuzzVerify(f *testing.F) {
	f.Add("dBjftJeZ4CVP-mJ92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, verifier, challenge string) {
		if Verify(verifier, challenge) && (!ValidVerifier(verifier) || Challenge(verifier) != challenge) {
			t.Fatalf("Verify accepted %q for %q", verifier, challenge)
		}
	})
}
