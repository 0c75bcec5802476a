// Package gitwrite writes rollbacks to Git as ordinary commits.
//
// cruise rolls an application back "the GitOps way": instead of changing
// the cluster, it commits a revert of everything that changed since an
// earlier revision, limited to the files that application renders, and
// pushes it to the branch the application tracks. The operator then
// deploys that commit like any other, and the Git log stays the one
// transaction log of what was deployed, when, and at whose request.
//
// [Revert] clones the branch into memory, checks that the target commit is
// an ancestor of the branch head, builds a tree equal to the head's except
// under the requested paths, where it equals the target's (files added
// since are removed, modified and deleted ones are restored), commits it
// with the requester as author and pushes it fast-forward only. Nothing is
// written when the paths already match the target.
//
// If someone pushes between our fetch and our push, the push is refused
// by the server. Revert then fetches again: if the commits that arrived
// touched any of the restored paths it refuses with [ErrConflict] (a human
// must decide which change wins); otherwise it recomputes the rollback on
// the new head and pushes once more. It never force-pushes.
//
// Errors are single lines naming the repository with credentials removed,
// and wrap one of the package's sentinels so callers can react. Credentials
// and transports follow internal/source: http(s) with basic or bearer auth,
// ssh with a private key checked against known_hosts, and local paths.
package gitwrite
