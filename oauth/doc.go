// Package oauth is cruise's authorization server: OAuth 2.1
// (draft-ietf-oauth-v2-1) without the legacy of OAuth 2.0, plus the parts
// of OpenID Connect a web UI needs to log in. It runs on its own (`cruise
// auth serve`) or inside `cruise server`, as the http.Handler New returns,
// and imports nothing from the rest of cruise.
//
// # Endpoints
//
// Under the issuer's path: /authorize (code flow only), /token,
// /revoke (RFC 7009), /introspect (RFC 7662), /device_authorization and
// /device (RFC 8628), /userinfo (OpenID Connect Core 5.3), /jwks, and the
// metadata at /.well-known/oauth-authorization-server (RFC 8414) and
// /.well-known/openid-configuration. Browser pages: /login, /consent,
// /consents (review and revoke consents), /logout, /upstream/... (login
// at an organisation's OpenID provider).
//
// # The rules it enforces
//
// PKCE with S256 on every authorization request; exact redirect URI
// matching except the port of loopback IP literals (RFC 8252); no implicit
// or password grants; single-use codes of 60 s whose replay revokes what
// they issued; refresh tokens rotated on every use with reuse detection
// that revokes the family; the iss authorization response parameter (RFC
// 9207); repeated parameters and multiple client authentication methods
// refused; Cache-Control: no-store on token responses; access tokens as
// RFC 9068 JWTs signed ES256 or EdDSA with rotating keys; DPoP (RFC 9449)
// binding. Every handler's doc comment cites the section it implements.
//
// # Layout
//
// One file per endpoint and per grant (grant_*.go), each parsing,
// validating, creating and responding in that order. Subpackages: store
// (what is persisted; sqlstore implements it on SQLite and PostgreSQL),
// keys (signing keys and JWKS), accesstoken (RFC 9068 tokens), pkce,
// dpop, password (argon2id), and resource, the middleware resource
// servers use to check tokens.
package oauth
