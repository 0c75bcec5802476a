// Package apiclient is a typed client of cruise's HTTP API (/api/v1, the
// shapes of package apiv1), used by the command line when it works through
// a cruise server instead of going to the cluster directly.
//
// A Client is made with New from the server's base URL and an
// oauth2.TokenSource; every request but AuthConfig carries the source's
// access token in the Authorization header (RFC 6750 section 2.1), never
// in the URL. The transport is secure by default:
//
//   - only https URLs are accepted, or plain http to a loopback address
//     (127.0.0.1, ::1, localhost), as for a server reached through a tunnel;
//   - redirects are not followed, so a token is never sent elsewhere;
//   - every call has a time limit (30 s unless WithTimeout says otherwise)
//     and every response body is read through a size limit (32 MiB).
//
// A non-2xx answer is returned as an *Error, which carries the HTTP status
// and the server's apiv1.Error: a stable Code (apiv1.CodeNotFound,
// apiv1.CodeConflict, ...), the message, and for a conflicting rollback the
// files. Its text is one line naming the server and the application:
//
//	https://cruise.example.com: rollback apps/web: the revert conflicts with later commits (409 conflict; files: deploy/web.yaml)
//
// The client knows nothing of how tokens are obtained or stored: the
// command line logs in with OAuth 2.1 and passes a token source that
// refreshes and saves them.
package apiclient
