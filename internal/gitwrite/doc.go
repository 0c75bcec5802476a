// Package gitwrite writes to Git as ordinary commits: rollbacks, and the
// image updates of image automation.
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
// [Update] is the general form, for image automation: it offers the files
// under a path to an edit function, commits what it changed (signed with
// an SSH or OpenPGP key when asked), and pushes fast-forward only. A
// refused push is answered by fetching the new head and running the edit
// again on it, so two automations racing for a branch both land, one on
// top of the other, and a person's commit is never overwritten.
//
// Git is reached through internal/source's [source.Remote], the transport
// layer fetches use: http(s) with basic or bearer auth, ssh with a private
// key checked against known_hosts, and local paths. Errors are single lines
// naming the repository with credentials removed. They wrap the package's
// own sentinels for what only a write meets ([ErrNotAncestor],
// [ErrConflict], [ErrRejected]) and source's for everything else
// (source.ErrAuth, source.ErrHostKey, source.ErrUnreachable,
// source.ErrRepoNotFound, source.ErrRefNotFound, source.ErrInvalid), so
// code that handles fetch errors handles these too.
package gitwrite
