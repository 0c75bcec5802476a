// Package resource protects an HTTP API with cruise's access tokens: a
// middleware for resource servers (draft-ietf-oauth-v2-1 section 5, RFC
// 6750, RFC 9068 section 4, RFC 9449 section 7).
//
// The token is read only from the Authorization header, with the Bearer or
// DPoP scheme in any letter case; a token in the query string
// (?access_token=) or the form body is never read (OAuth 2.1 section 5.1
// removed both). A token whose type, issuer, audience, signature or expiry
// is wrong is answered 401 with WWW-Authenticate: Bearer
// error="invalid_token"; too little scope is answered 403
// error="insufficient_scope". A DPoP-bound token (cnf.jkt) must come with
// the DPoP scheme and a fresh proof by the same key for this request.
//
//	v, err := resource.New(resource.Options{
//		Issuer:   "https://cruise.example/auth",
//		Audience: "https://cruise.example/auth",
//		Keys:     resource.RemoteKeys("https://cruise.example/auth/jwks", nil),
//	})
//	mux.Handle("/api/", v.Require("cruise:read")(api))
package resource
