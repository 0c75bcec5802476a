// Package pkce checks Proof Key for Code Exchange values (RFC 7636), as
// OAuth 2.1 requires them: the S256 method only (draft-ietf-oauth-v2-1
// section 4.1.1 and section 7.5.1; RFC 7636 section 4.2), verifiers of 43
// to 128 unreserved characters (RFC 7636 section 4.1).
package pkce
