// Package dpop verifies DPoP proofs (RFC 9449): JWTs of type "dpop+jwt"
// signed with the asymmetric key whose public half they carry, naming the
// HTTP method and URL of the request they accompany (section 4.2), checked
// as section 4.3 prescribes. Replay of a proof's "jti" is for the caller to
// refuse (section 11.1), since only it knows where IDs are recorded.
package dpop
