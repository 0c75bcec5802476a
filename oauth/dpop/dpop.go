package dpop

import (
	"crypto"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Type is the "typ" header of DPoP proofs (RFC 9449 section 4.2).
const Type = "dpop+jwt"

// Algorithms are the asymmetric algorithms accepted for proofs; the server
// advertises them as dpop_signing_alg_values_supported.
var Algorithms = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.EdDSA, jose.RS256, jose.PS256}

// Proof is a verified proof.
type Proof struct {
	// JKT is the base64url SHA-256 JWK thumbprint (RFC 7638) of the key.
	JKT      string
	JTI      string
	IssuedAt time.Time
}

// Options describe the request a proof must match.
type Options struct {
	Method string
	// URL is the request URL without query and fragment (section 4.3
	// point 9).
	URL string
	// AccessToken, when set, must match the "ath" claim (section 4.3
	// point 12); resource servers set it, the token endpoint does not.
	AccessToken string
	Now         time.Time
	// MaxAge bounds how far iat may be from Now either way; default 60s.
	MaxAge time.Duration
}

// ErrInvalid wraps every reason a proof is refused; the server answers
// invalid_dpop_proof.
var ErrInvalid = errors.New("invalid DPoP proof")

type claims struct {
	JTI string `json:"jti"`
	HTM string `json:"htm"`
	HTU string `json:"htu"`
	IAT int64  `json:"iat"`
	ATH string `json:"ath"`
}

// Verify checks one DPoP header value (section 4.3) and returns the proof.
func Verify(header string, opts Options) (*Proof, error) {
	if header == "" || strings.Count(header, ".") != 2 {
		return nil, fmt.Errorf("%w: not a compact JWS", ErrInvalid)
	}
	jws, err := jose.ParseSignedCompact(header, Algorithms)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: %d signatures", ErrInvalid, len(jws.Signatures))
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != Type {
		return nil, fmt.Errorf("%w: typ %q", ErrInvalid, typ)
	}
	jwk := h.JSONWebKey
	if jwk == nil || !jwk.Valid() || !jwk.IsPublic() {
		return nil, fmt.Errorf("%w: no public jwk header", ErrInvalid)
	}
	payload, err := jws.Verify(jwk)
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %v", ErrInvalid, err)
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrInvalid, err)
	}
	maxAge := opts.MaxAge
	if maxAge == 0 {
		maxAge = time.Minute
	}
	iat := time.Unix(c.IAT, 0)
	switch {
	case c.JTI == "" || len(c.JTI) > 256:
		return nil, fmt.Errorf("%w: jti", ErrInvalid)
	case c.HTM != opts.Method:
		return nil, fmt.Errorf("%w: htm %q, want %q", ErrInvalid, c.HTM, opts.Method)
	case !sameURL(c.HTU, opts.URL):
		return nil, fmt.Errorf("%w: htu %q, want %q", ErrInvalid, c.HTU, opts.URL)
	case c.IAT == 0 || iat.Before(opts.Now.Add(-maxAge)) || iat.After(opts.Now.Add(maxAge)):
		return nil, fmt.Errorf("%w: iat outside the acceptable window", ErrInvalid)
	}
	if opts.AccessToken != "" {
		sum := sha256.Sum256([]byte(opts.AccessToken))
		want := base64.RawURLEncoding.EncodeToString(sum[:])
		if subtle.ConstantTimeCompare([]byte(c.ATH), []byte(want)) != 1 {
			return nil, fmt.Errorf("%w: ath does not match the access token", ErrInvalid)
		}
	}
	jkt, err := Thumbprint(jwk)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return &Proof{JKT: jkt, JTI: c.JTI, IssuedAt: iat}, nil
}

// Thumbprint returns the base64url SHA-256 JWK thumbprint of k.
func Thumbprint(k *jose.JSONWebKey) (string, error) {
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// sameURL compares htu with the request URL ignoring query and fragment,
// after syntax-based normalisation of scheme and host case (section 4.3
// point 9, RFC 3986 section 6.2.2).
func sameURL(htu, want string) bool {
	a, err1 := url.Parse(htu)
	b, err2 := url.Parse(want)
	if err1 != nil || err2 != nil {
		return false
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host) && a.EscapedPath() == b.EscapedPath()
}
