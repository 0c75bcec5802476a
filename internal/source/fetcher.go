package source

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// Defaults for the zero fields of Options.
const (
	DefaultTimeout       = 60 * time.Second
	DefaultMaxFileBytes  = 5 << 20   // 5 MiB
	DefaultMaxTotalBytes = 100 << 20 // 100 MiB
)

// Options configure a Fetcher. The zero value works: each zero field takes
// the default documented on it.
type Options struct {
	// CacheDir holds the cache clones (repos/) and checkouts (checkouts/).
	// Default: "cruise-source" under os.TempDir(). One process per
	// CacheDir: the locks that protect it are in memory.
	CacheDir string
	// Timeout bounds the network part of one Fetch (listing refs plus
	// fetching objects). Writing the checkout is bounded by the caller's
	// context only. Default: DefaultTimeout (60s).
	Timeout time.Duration
	// MaxFileBytes is the largest file a checkout may contain.
	// Default: DefaultMaxFileBytes (5 MiB).
	MaxFileBytes int64
	// MaxTotalBytes is the largest total size of the files of a checkout.
	// Default: DefaultMaxTotalBytes (100 MiB).
	MaxTotalBytes int64
	// StorageLimit bounds the disk the cache may use (clones and
	// checkouts, in allocated bytes): a checkout that would take it over,
	// or a fetch from the network while it is over, fails with
	// ErrStorageFull. Collect is what brings it down. Default 0: no limit.
	StorageLimit int64
	// InsecureIgnoreHostKey accepts any SSH host key, making SSH open to
	// man-in-the-middle attacks. For tests and local development only;
	// default false: host keys are checked against Auth.KnownHosts.
	InsecureIgnoreHostKey bool
}

// DefaultOptions returns Options with every default filled in.
func DefaultOptions() Options {
	return Options{}.withDefaults()
}

func (o Options) withDefaults() Options {
	if o.CacheDir == "" {
		o.CacheDir = filepath.Join(os.TempDir(), "cruise-source")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.MaxTotalBytes <= 0 {
		o.MaxTotalBytes = DefaultMaxTotalBytes
	}
	return o
}

// Request names what to fetch.
type Request struct {
	// URL is https://, http://, ssh://, scp-style user@host:path, file://
	// or a local path to a Git repository.
	URL string
	// Ref is the commit to fetch; the zero Ref means the remote's HEAD.
	Ref Ref
	// Auth holds credentials; nil means anonymous (or the URL's userinfo
	// for http).
	Auth *Auth
}

// Artifact is a fetched commit. It holds its checkout: Collect leaves Dir
// alone until Release is called. A process that never collects need not
// release.
type Artifact struct {
	// URL is the repository URL with credentials removed.
	URL string
	// Revision is "<branch or tag>@sha1:<commit>", or "sha1:<commit>" when
	// a commit was asked for.
	Revision string
	// Commit is the full 40-hex commit SHA.
	Commit string
	// Dir is the checkout of the commit's tree. It is shared by every
	// fetch of that commit: treat it as read-only.
	Dir string
	// Message is the subject line of the commit message.
	Message string
	// Author is "Name <email>".
	Author string
	// Time is the author time.
	Time time.Time

	// held keeps Dir from Collect until Release; nil when it holds nothing.
	held *lease
}

// Fetcher fetches repositories into a cache. It is safe for concurrent use;
// fetches of one URL are serialized, different URLs proceed in parallel.
type Fetcher struct {
	opts Options

	mu sync.Mutex
	// locks holds one lock per cache clone (by directory name, one per
	// normalized URL); guarded by mu. Entries are never removed: one small
	// struct per repository the process has seen.
	locks map[string]*repoLock

	disk *disk
	// maxPacks is how many packfiles a clone may hold before Collect
	// compacts it; see compact.go.
	maxPacks int
	// afterFetch, when set (by tests), runs between a fetch and the
	// checkout that follows it, where a compaction may come in.
	afterFetch func()
}

// repoLock serializes the work on one cache clone.
type repoLock struct {
	// sem is held by the one fetch, ChangedPaths or collection of the
	// clone running at a time.
	sem chan struct{}
	// readers is read-locked by checkouts, which read objects after sem is
	// released, and write-locked by whatever deletes pack files (compaction,
	// removal of the clone).
	readers sync.RWMutex
}

// NewFetcher returns a Fetcher using opts (zero fields take their
// defaults) and creates its cache directories.
func NewFetcher(opts Options) (*Fetcher, error) {
	opts = opts.withDefaults()
	for _, dir := range []string{filepath.Join(opts.CacheDir, "repos"), filepath.Join(opts.CacheDir, "checkouts")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("git: cannot create cache directory %s: %w", dir, err)
		}
	}
	// Half-written checkouts and half-removed directories of a previous
	// process that died mid-way; no one else writes here (one process per
	// CacheDir).
	var stale []string
	for _, pattern := range []string{"checkouts/.tmp-*", "checkouts/" + trashPrefix + "*", "repos/" + trashPrefix + "*"} {
		found, _ := filepath.Glob(filepath.Join(opts.CacheDir, filepath.FromSlash(pattern)))
		stale = append(stale, found...)
	}
	for _, dir := range stale {
		if err := os.RemoveAll(dir); err != nil {
			return nil, fmt.Errorf("git: cannot remove stale checkout %s: %w", dir, err)
		}
	}
	d := newDisk(opts.StorageLimit)
	if err := d.scan(opts.CacheDir); err != nil {
		return nil, err
	}
	return &Fetcher{opts: opts, locks: map[string]*repoLock{}, disk: d, maxPacks: defaultMaxPacks}, nil
}

// Options returns the options in effect, defaults filled in.
func (f *Fetcher) Options() Options { return f.opts }

// Fetch resolves req.Ref in req.URL, brings the commit into the cache and
// returns it checked out. See the package documentation for the cache and
// the errors.
func (f *Fetcher) Fetch(ctx context.Context, req Request) (*Artifact, error) {
	loc, err := parseLocation(req.URL)
	if err != nil {
		return nil, err
	}
	if err := req.Ref.Validate(); err != nil {
		return nil, err
	}
	ref := req.Ref.normalize()
	if loc.kind == kindLocal {
		return f.fetchLocal(ctx, loc, ref)
	}
	return f.fetchRemote(ctx, loc, ref, req.Auth)
}

// fetchRemote updates the cache clone of loc and checks out the commit.
//
// The network part runs in its own goroutine, which owns the URL lock,
// because go-git bounds an SSH handshake only by the TCP dial timeout, not
// by the context: a server that accepts the connection and stays silent
// would otherwise hold Fetch forever. On timeout Fetch returns at once; the
// goroutine gives the lock back when go-git returns, which is as soon as
// the handshake ends, since every later step reads through the (done)
// context and fails before writing anything to the cache.
//
// The checkout runs without the lock: fetches only add packs to a clone,
// so reading objects while another fetch of the URL runs is safe, and the
// checkout directory is published by an atomic rename. Compaction, which
// deletes packs, waits for such readers (repoLock.readers).
func (f *Fetcher) fetchRemote(ctx context.Context, loc *location, ref Ref, auth *Auth) (*Artifact, error) {
	unlock, err := f.lock(ctx, loc)
	if err != nil {
		return nil, err
	}
	f.disk.markUsed(loc.cacheDirName())
	repo, err := f.openCache(loc, true)
	if err != nil {
		unlock()
		return nil, err
	}

	netCtx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	type result struct {
		tgt  target
		hash plumbing.Hash
		err  error
	}
	done := make(chan result, 1)
	go func() {
		defer unlock()
		var fetched bool
		tgt, hash, err := f.update(netCtx, repo, loc, ref, auth, &fetched)
		if fetched { // an unchanged remote, the usual poll, adds nothing to measure
			f.measureClone(loc.cacheDirName())
		}
		done <- result{tgt, hash, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-netCtx.Done():
		select {
		case res = <-done: // finished at the same moment: keep the result
		default:
			return nil, classify(netCtx, netCtx.Err(), loc, f.opts.Timeout, auth.secrets(loc))
		}
	}
	if res.err != nil {
		return nil, res.err
	}
	if f.afterFetch != nil {
		f.afterFetch()
	}
	rl := f.repoLock(loc.cacheDirName())
	rl.readers.RLock()
	defer rl.readers.RUnlock()
	// Opened again: a compaction between the fetch and the read lock may
	// have replaced the packs the first handle knows.
	if repo, err = f.openCache(loc, false); err != nil {
		return nil, err
	}
	return f.artifact(ctx, repo, loc, res.tgt, res.hash)
}

// fetchLocal reads a repository on this machine in place; see the package
// documentation for why it is not cloned.
func (f *Fetcher) fetchLocal(ctx context.Context, loc *location, ref Ref) (*Artifact, error) {
	repo, err := openLocal(loc)
	if err != nil {
		return nil, err
	}
	refs, err := localRefs(repo)
	if err != nil {
		return nil, newError(nil, err, nil, "cannot read refs of %s", loc.display)
	}
	tgt, err := newRefTable(refs).resolve(ref, loc.display)
	if err != nil {
		return nil, err
	}
	if !hasObject(repo, tgt.hash) {
		return nil, newError(ErrRefNotFound, nil, nil, "ref %q not found in %s", ref.String(), loc.display)
	}
	return f.artifact(ctx, repo, loc, tgt, tgt.hash)
}

func openLocal(loc *location) (*git.Repository, error) {
	repo, err := git.PlainOpenWithOptions(loc.path, &git.PlainOpenOptions{DetectDotGit: false})
	if err == git.ErrRepositoryNotExists {
		return nil, newError(ErrRepoNotFound, nil, nil, "%s is not a Git repository (plain directories are read by the caller, see IsLocalDir)", loc.display)
	}
	if err != nil {
		return nil, newError(ErrRepoNotFound, err, nil, "cannot open %s", loc.display)
	}
	return repo, nil
}

func localRefs(repo *git.Repository) ([]*plumbing.Reference, error) {
	iter, err := repo.References()
	if err != nil {
		return nil, err
	}
	var refs []*plumbing.Reference
	err = iter.ForEach(func(r *plumbing.Reference) error {
		refs = append(refs, r)
		return nil
	})
	return refs, err
}

// artifact peels hash to a commit, checks it out and describes it.
func (f *Fetcher) artifact(ctx context.Context, repo *git.Repository, loc *location, tgt target, hash plumbing.Hash) (*Artifact, error) {
	commit, err := peelToCommit(repo.Storer, hash)
	if err != nil {
		return nil, newError(ErrRefNotFound, err, nil, "%s in %s does not lead to a commit", hash, loc.display)
	}
	dir, held, err := f.checkout(ctx, repo.Storer, commit, loc)
	if err != nil {
		return nil, err
	}
	sha := commit.Hash.String()
	subject, _, _ := strings.Cut(strings.TrimSpace(commit.Message), "\n")
	return &Artifact{
		URL:      loc.display,
		Revision: tgt.revision(sha),
		Commit:   sha,
		Dir:      dir,
		Message:  strings.TrimSpace(subject),
		Author:   fmt.Sprintf("%s <%s>", commit.Author.Name, commit.Author.Email),
		Time:     commit.Author.When,
		held:     held,
	}, nil
}

// lock takes the per-URL lock. Waiting is bounded by ctx and by
// Options.Timeout, so that a fetch stuck on an unresponsive remote turns
// the fetches queued behind it into errors rather than hung reconciles.
func (f *Fetcher) lock(ctx context.Context, loc *location) (unlock func(), err error) {
	ch := f.repoLock(loc.cacheDirName()).sem
	timer := time.NewTimer(f.opts.Timeout)
	defer timer.Stop()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-timer.C:
		return nil, newError(ErrUnreachable, nil, nil,
			"another fetch of %s is still running after %s", loc.display, f.opts.Timeout)
	case <-ctx.Done():
		return nil, newError(nil, ctx.Err(), nil, "gave up waiting for another fetch of %s", loc.display)
	}
}

// repoLock returns the lock of the clone in repos/<dir>.
func (f *Fetcher) repoLock(dir string) *repoLock {
	f.mu.Lock()
	defer f.mu.Unlock()
	rl, ok := f.locks[dir]
	if !ok {
		rl = &repoLock{sem: make(chan struct{}, 1)}
		f.locks[dir] = rl
	}
	return rl
}
