// Package loopback tells whether a host is the local machine, for the one
// exception to "https only": plain http is acceptable to a loopback
// address, where nothing leaves the machine (draft-ietf-oauth-v2-1
// section 1.5, RFC 8252 section 8.3). It imports nothing but the standard
// library, so that clients (cruise's API client and login) share the rule
// with the authorization server without depending on it.
package loopback
