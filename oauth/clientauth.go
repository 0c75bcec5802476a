package oauth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/cruisegitops/cruise/oauth/store"
)

// clientAssertionType is the client_assertion_type of private_key_jwt
// (RFC 7523 section 2.2).
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Client authentication methods (RFC 8414 token_endpoint_auth_methods).
const (
	authNone          = "none"
	authSecretBasic   = "client_secret_basic"
	authSecretPost    = "client_secret_post"
	authPrivateKeyJWT = "private_key_jwt"
)

// authenticatedRequest parses a form POST and authenticates its client,
// answering the request itself on failure (ok is false then). The
// revocation, introspection and device authorization endpoints start so.
func (s *Server) authenticatedRequest(w http.ResponseWriter, r *http.Request) (p params, client store.Client, ok bool) {
	p, e := parseBody(w, r)
	if e != nil {
		writeJSONError(w, e)
		return nil, store.Client{}, false
	}
	client, e = s.authenticateClient(r.Context(), r, p)
	if e != nil {
		writeJSONError(w, e)
		return nil, store.Client{}, false
	}
	return p, client, true
}

// authenticateClient identifies and authenticates the client of a token,
// revocation, introspection or device authorization request
// (draft-ietf-oauth-v2-1 section 2.4 and 3.2.1). Exactly one method may be
// used (section 2.4: "MUST NOT use more than one authentication method in
// each request"). Public clients identify themselves with client_id alone.
//
// Failures are throttled (section 7.4.3) so that nobody can lock out
// another party: see throttleKey.
func (s *Server) authenticateClient(ctx context.Context, r *http.Request, p params) (store.Client, *Error) {
	var methods []string
	if r.Header.Get("Authorization") != "" {
		methods = append(methods, authSecretBasic)
	}
	if _, ok := p["client_secret"]; ok {
		methods = append(methods, authSecretPost)
	}
	if p["client_assertion"] != "" || p["client_assertion_type"] != "" {
		methods = append(methods, authPrivateKeyJWT)
	}
	if len(methods) > 1 {
		return store.Client{}, invalidRequest("more than one client authentication method: %s", strings.Join(methods, ", "))
	}
	method := authNone
	if len(methods) == 1 {
		method = methods[0]
	}

	clientID, secret := p["client_id"], p["client_secret"]
	switch method {
	case authSecretBasic:
		id, sec, err := parseBasic(r.Header.Get("Authorization"))
		if err != nil {
			e := invalidClient("malformed Basic credentials")
			e.basic = true
			return store.Client{}, e
		}
		if clientID != "" && clientID != id {
			return store.Client{}, invalidRequest("client_id differs from the authenticated client")
		}
		clientID, secret = id, sec
	case authPrivateKeyJWT:
		id, err := assertionSubject(p["client_assertion"])
		if err != nil {
			return store.Client{}, invalidClient("malformed client assertion")
		}
		if clientID != "" && clientID != id {
			return store.Client{}, invalidRequest("client_id differs from the client assertion")
		}
		clientID = id
	}
	if clientID == "" {
		return store.Client{}, invalidClient("no client identification")
	}
	client, err := s.store.GetClient(ctx, clientID)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Client{}, s.internalError(ctx, "get client", err)
	}
	if known && client.Public && method == authNone {
		// Nothing to guess: the grant's own checks (PKCE, single-use
		// codes, rotating refresh tokens) apply, and no throttle does.
		return client, nil
	}
	key := throttleKey(s.sourceAddress(r), client, known)
	if wait := s.clientThrottle.wait(key); wait > 0 {
		e := invalidClient("too many failed authentications; retry later")
		e.Status, e.RetryAfter = http.StatusTooManyRequests, wait
		return store.Client{}, e
	}
	fail := func(desc string) (store.Client, *Error) {
		s.clientThrottle.fail(key)
		e := invalidClient("%s", desc)
		e.basic = method == authSecretBasic
		return store.Client{}, e
	}
	switch {
	case !known:
		return fail("unknown client")
	case client.Public:
		return fail("public clients have no credentials")
	case client.SecretHash != "":
		if method != authSecretBasic && method != authSecretPost {
			return fail("client authentication required (client_secret_basic or client_secret_post)")
		}
		if subtle.ConstantTimeCompare([]byte(store.HashToken(secret)), []byte(client.SecretHash)) != 1 {
			return fail("client authentication failed")
		}
	case client.JWKS != "":
		if method != authPrivateKeyJWT {
			return fail("client authentication required (private_key_jwt)")
		}
		if err := s.verifyClientAssertion(ctx, client, p); err != nil {
			return fail(err.Error())
		}
	default:
		return fail("client has no usable credentials")
	}
	s.clientThrottle.succeed(key)
	return client, nil
}

// throttleKey is what the failures of a client authentication from the
// source address src count against. A confidential client's count is its
// own at that address: guessing its secret from one address slows that
// address only, never the client calling from its own. Everything else
// that fails (an unknown client, credentials sent for a public client,
// which has none to guess) counts against the address alone, so that it
// cannot be aimed at a client.
func throttleKey(src string, client store.Client, known bool) string {
	if known && !client.Public {
		// src first: an address holds no "|", so keys cannot collide.
		return "client:" + src + "|" + client.ID
	}
	return "source:" + src
}

// parseBasic decodes HTTP Basic credentials; client IDs and secrets are
// form-urlencoded first (section 2.4.1).
func parseBasic(h string) (string, string, error) {
	scheme, rest, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", "", errors.New("not Basic")
	}
	r := http.Request{Header: http.Header{"Authorization": {"Basic " + strings.TrimSpace(rest)}}}
	id, secret, ok := r.BasicAuth()
	if !ok {
		return "", "", errors.New("malformed")
	}
	id, err1 := url.QueryUnescape(id)
	secret, err2 := url.QueryUnescape(secret)
	if err1 != nil || err2 != nil || id == "" {
		return "", "", errors.New("malformed")
	}
	return id, secret, nil
}

// assertionAlgorithms are accepted for private_key_jwt.
var assertionAlgorithms = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.EdDSA, jose.RS256, jose.PS256}

func assertionSubject(assertion string) (string, error) {
	tok, err := jwt.ParseSigned(assertion, assertionAlgorithms)
	if err != nil {
		return "", err
	}
	var c jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return "", err
	}
	if c.Subject == "" || c.Issuer != c.Subject {
		return "", errors.New("iss and sub must both be the client ID")
	}
	return c.Subject, nil
}

// verifyClientAssertion checks a private_key_jwt assertion (RFC 7523
// section 3): signed by a registered key, iss = sub = client ID, aud the
// issuer or token endpoint, unexpired, and its jti never seen before.
func (s *Server) verifyClientAssertion(ctx context.Context, client store.Client, p params) error {
	if p["client_assertion_type"] != clientAssertionType {
		return errors.New("unsupported client_assertion_type")
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(client.JWKS), &set); err != nil {
		return errors.New("client key set unreadable")
	}
	tok, err := jwt.ParseSigned(p["client_assertion"], assertionAlgorithms)
	if err != nil {
		return errors.New("malformed client assertion")
	}
	var c jwt.Claims
	if err := tok.Claims(set, &c); err != nil {
		return errors.New("client assertion signature invalid")
	}
	now := s.now()
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: client.ID, Subject: client.ID, Time: now}, 30*time.Second); err != nil {
		return errors.New("client assertion claims invalid")
	}
	if !c.Audience.Contains(s.issuer) && !c.Audience.Contains(s.url(PathToken)) {
		return errors.New("client assertion audience must be the issuer")
	}
	if c.Expiry == nil || c.ID == "" || c.Expiry.Time().After(now.Add(10*time.Minute)) {
		return errors.New("client assertion needs jti and an exp within 10 minutes")
	}
	if err := s.store.RecordJTI(ctx, "assertion:"+client.ID+":"+c.ID, c.Expiry.Time().Add(time.Minute)); err != nil {
		return errors.New("client assertion replayed")
	}
	return nil
}
