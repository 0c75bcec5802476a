// Package oauthclient is the OAuth 2.1 client side of the command line:
// it logs a user in to the authorization server a cruise server names,
// keeps the tokens, refreshes them and ends the login. It knows nothing of
// flags or terminals: package cli wires it and prints; and nothing of the
// authorization server's code, which it reaches only over HTTP.
//
// Logging in starts with Discover, which reads the issuer's metadata (RFC
// 8414, else OpenID Connect Discovery) and checks it: the issuer it names
// must be the one asked for (section 3.3), its endpoints https (or http
// on loopback), PKCE with S256 offered. Then one of two grants:
//
//   - BrowserLogin, the authorization code grant with PKCE for a native
//     app (RFC 8252): the redirect URI is http://127.0.0.1:PORT/callback on
//     a port chosen for this login (section 7.3); the callback must carry
//     this login's state and, when the server says it sends one, its
//     issuer (RFC 9207 section 2.4, against mix-up);
//   - DeviceLogin, the device authorization grant (RFC 8628), for a
//     machine without a browser.
//
// Logins are kept in a Store, one JSON file of mode 0600 in a directory of
// mode 0700, keyed by the normalised server URL (NormalizeServer). A file
// that group or others may read is refused, not read: its tokens may have
// leaked. Every change happens under an exclusive lock of the directory
// and is written atomically (temporary file, rename).
//
// A TokenSource hands out a login's access token and refreshes it when it
// has expired. The server rotates refresh tokens (draft-ietf-oauth-v2-1
// section 4.3.1: using one twice revokes the whole grant), so refreshing
// reads the file again under the lock first, in case another process has
// refreshed meanwhile, and saves the answer before releasing it: however
// many cruise processes run at once, each refresh token is spent once.
//
// Store.Logout revokes a login at the issuer (RFC 7009) and deletes it.
// Errors that mean the user must log in again wrap ErrLoginEnded.
package oauthclient
