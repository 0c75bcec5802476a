// Package accesstoken defines cruise's access tokens: JSON Web Tokens in the
// profile of RFC 9068, with the "at+jwt" type header (section 2.1), the
// claims of section 2.2 (iss, exp, aud, sub, client_id, iat, jti), the
// authorization claims of section 2.2.3 (scope, groups) and, for DPoP-bound
// tokens, the "cnf" claim of RFC 9449 section 6.1.
//
// Verify implements the validation of RFC 9068 section 4 for resource
// servers and for the authorization server's own introspection and userinfo
// endpoints.
package accesstoken
