package pkce

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// MethodS256 is the only transformation the server accepts.
const MethodS256 = "S256"

// ValidVerifier reports whether v has the syntax of RFC 7636 section 4.1:
// 43 to 128 characters from [A-Z] [a-z] [0-9] "-" "." "_" "~".
func ValidVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	return unreserved(v)
}

// ValidChallenge reports whether c can be an S256 challenge: the unpadded
// base64url encoding of a SHA-256 digest, 43 characters (RFC 7636 section
// 4.2).
func ValidChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil && len(b) == sha256.Size
}

// Challenge returns the S256 challenge of verifier.
func Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Verify reports, in constant time, whether verifier matches the S256
// challenge (RFC 7636 section 4.6). A syntactically invalid verifier never
// matches.
func Verify(verifier, challenge string) bool {
	if !ValidVerifier(verifier) || !ValidChallenge(challenge) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(Challenge(verifier)), []byte(challenge)) == 1
}

func unreserved(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}
