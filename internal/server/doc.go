// Package server is `cruise server`: the JSON API under /api/v1, the
// embedded web UI, and (unless an external issuer is configured) the
// built-in OAuth 2.1 authorization server of package oauth, in one
// http.Handler.
//
// # Who a request runs as
//
// Every request is authenticated, either by an OAuth 2.1 access token in
// the Authorization header (the API, the CLI) or by the UI's session
// cookie, which holds the tokens the UI obtained with authorization code +
// PKCE. A token in the query string is refused, never used.
//
// Every Kubernetes call made for a request impersonates the person the
// token names (user and groups), so Kubernetes RBAC alone decides what
// they see and may do; there is no second permission system to keep in
// step. The server's own ServiceAccount may impersonate, read API
// discovery and list Namespace names (to filter a cluster-wide list to
// what the user may read, one impersonated list per namespace); it can
// read nothing else, so a bug that forgot to impersonate would fail
// closed. A token without a subject, or naming a "system:" user, is
// refused; groups starting with "system:" are dropped (the API server adds
// system:authenticated itself).
//
// # Rollback
//
// Rolling back commits a revert of the application's files to the branch
// its GitRepository tracks (package gitwrite), with the credentials of the
// Secret spec.pushSecretRef (or spec.secretRef) names, read as the user.
// The operator then deploys that commit like any other: auto-sync has
// nothing to fight.
//
// # Images
//
// An application's images (GET .../applications/{name}/images, and the
// Images section of its page) come from the pod templates of the
// workloads its status records, matched by repository (nginx is
// index.docker.io/library/nginx) against the ImageRepositories that
// ImagePolicies read. Each policy's choice, the newer tags the
// repository's last scan knows (ranked by the policy) and the versions
// ImageUpdateAutomations hold back after a rollback are shown. All of it
// is read as the user; what RBAC refuses is left out with a note saying
// so, never turned into an error.
//
// # Browser security
//
// Sessions are AES-GCM sealed cookies (HttpOnly, SameSite=Lax, Secure
// over https). Every state-changing request from a session carries a CSRF
// token bound to the session and, when the browser sends one, an Origin
// equal to the server's. Pages are served with a strict
// Content-Security-Policy (no inline script or style), frame-ancestors
// 'none', nosniff and a same-origin referrer policy.
package server
