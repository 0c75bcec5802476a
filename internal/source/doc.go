// Package source fetches Git repositories for cruise: given a URL and a ref
// it returns the resolved commit and a read-only directory holding the tree
// of that commit (an [Artifact]).
//
// # Why go-git
//
// Git is spoken through github.com/go-git/go-git/v5 rather than by running
// the git binary:
//
//   - it is pure Go, so the controller image needs no git, no ssh client and
//     no shell;
//   - credentials stay in process memory ([Auth]) instead of being written to
//     askpass helpers, ~/.ssh or credential stores;
//   - each operation gets its own transport settings (auth method, known
//     hosts, host key algorithms) and is bounded by a context, which is how
//     [Options.Timeout] is enforced.
//
// Local repositories (a path or a file:// URL) are opened directly with
// go-git instead of being fetched: go-git's file:// transport would run the
// git-upload-pack binary, which is exactly what we avoid, and the objects are
// already on disk.
//
// # Refs
//
// A [Ref] names a branch, a tag, a semantic-version range over tags (highest
// match wins, "v1.2.3" and "1.2.3" both count) or a full commit SHA. The
// zero Ref means the remote's HEAD branch. [ParseRef] reads the CLI form
// ("branch:main", "tag:v1", "semver:>=1 <2", "commit:<sha>", a bare name or
// a bare 40-hex SHA).
//
// An [Artifact] names what was fetched as a [Revision], written
// "<branch or tag>@sha1:<commit>" ("sha1:<commit>" when a commit was asked
// for). That string is what the CRDs' status records; [ParseRevision] is
// the one reader of it.
//
// # Cache
//
// A [Fetcher] keeps, under [Options.CacheDir]:
//
//	repos/<hash of normalized URL>/   a bare clone per remote URL
//	checkouts/<commit sha>/           the tree of one commit, read-only files
//
// A fetch first lists the remote's refs (one round trip: the ref
// advertisement, what `git ls-remote` does). If the wanted commit is already
// in the cached clone nothing else goes over the wire; otherwise the single
// wanted ref is fetched into the existing clone, which sends only the missing
// objects. Checkouts are written to a temporary directory and renamed into
// place, so a checkout directory that exists is complete, and a failed
// checkout (for example over [Options.MaxTotalBytes]) leaves nothing behind.
//
// Calls for the same URL are serialized by a per-URL lock held by the
// Fetcher; calls for different URLs run in parallel. The lock is in-process
// only: two processes must not share one CacheDir.
//
// # Storage
//
// Nothing leaves the cache by itself: [Fetcher.Collect] removes the
// checkouts and clones that its [Keep] does not name and nobody holds, and
// compacts the clones that stay (each fetch adds a packfile, and go-git
// slows down with every one; see compact.go). A long-running process calls
// it after each new revision and on a schedule; one-shot commands need not.
//
// An Artifact holds its checkout until [Artifact.Release]: Collect never
// removes a checkout while someone holds it, so a reader cannot lose the
// files it is reading. The hold is taken under the same lock as Collect's
// decisions, atomically with finding or publishing the checkout, and a
// second reader takes its own with [Artifact.Hold] while the first still
// holds it. Clones are removed only when no fetch used them since the
// previous Collect, and never while a fetch or a checkout reads them.
//
// The disk use is tracked as it changes (on each checkout written, fetch
// and removal; [Fetcher.Usage] does no I/O) and counted in allocated
// blocks, as du and the kubelet count it. With [Options.StorageLimit], a
// checkout that would take the cache over the limit, or a fetch from the
// network while it is over, fails with [ErrStorageFull] instead of filling
// the disk; what is already checked out keeps being served.
//
// # Checkouts
//
// Files are written with mode 0444 (0555 when executable) so consumers
// cannot modify a shared checkout by accident; directories stay 0755 so the
// cache can be pruned with os.RemoveAll. Symlinks are written as symlinks,
// never followed: judging whether a target escapes the checkout is the
// renderer's job. Tree entries whose name is "..", ".", ".git" or contains a
// slash are rejected ([ErrUnsafePath]) because they could write outside the
// checkout. Submodules are not fetched; their entries are skipped.
//
// # Remotes for writers
//
// Packages that write to Git (internal/gitwrite: rollbacks, later image
// updates) reach the remote through a [Remote]: the URL, auth method,
// printable name, scrubbing and error classification the Fetcher uses. A
// push therefore follows the same transport rules as a fetch (http(s) with
// basic or bearer auth, ssh with a key checked against known_hosts, local
// paths) and fails with the same sentinels; the writer adds only its own
// (a conflict, a rejected push).
//
// # Errors
//
// Errors are one line, start with "git: ", name the URL (with userinfo
// removed) and the ref, and wrap one of the sentinel errors ([ErrRefNotFound],
// [ErrRepoNotFound], [ErrAuth], [ErrUnreachable], [ErrHostKey], [ErrTooLarge],
// [ErrUnsafePath], [ErrInvalid], [ErrStorageFull]) so callers can tell them
// apart with errors.Is. Secrets never appear in error text.
//
// Local directories that are not Git repositories are not handled here: the
// caller checks [IsLocalDir] and reads such a directory directly.
package source
