package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// openCache opens the cache clone of loc. With create, a missing or
// unreadable clone is (re)initialized: the cache only ever holds data that
// can be fetched again.
func (f *Fetcher) openCache(loc *location, create bool) (*git.Repository, error) {
	dir := filepath.Join(f.opts.CacheDir, "repos", loc.cacheDirName())
	repo, err := git.PlainOpen(dir)
	switch {
	case err == nil:
		return repo, nil
	case !create && errors.Is(err, git.ErrRepositoryNotExists):
		return nil, newError(ErrRefNotFound, nil, nil, "%s has not been fetched yet", loc.display)
	case !create:
		return nil, newError(nil, err, nil, "cannot open cache of %s", loc.display)
	case !errors.Is(err, git.ErrRepositoryNotExists):
		if err := os.RemoveAll(dir); err != nil {
			return nil, newError(nil, err, nil, "cannot reset broken cache of %s", loc.display)
		}
	}
	// The clone gets no remote in its config: the URL is given per
	// operation, so credentials embedded in it are never written to disk.
	repo, err = git.PlainInit(dir, true)
	if err != nil {
		return nil, newError(nil, err, nil, "cannot create cache of %s", loc.display)
	}
	return repo, nil
}

// update lists the remote's refs, resolves ref, and fetches into repo only
// when the wanted object is missing, so an unchanged remote costs a single
// ref advertisement. It returns the target and the hash to check out, which
// may be newer than the listed one if the remote moved between the two
// requests. ctx carries Options.Timeout.
// update resolves ref at the remote and fetches its commit if the clone
// lacks it; *fetched tells whether it asked the remote for objects (so
// that the clone's size may have changed).
func (f *Fetcher) update(ctx context.Context, repo *git.Repository, loc *location, ref Ref, a *Auth, fetched *bool) (target, plumbing.Hash, error) {
	scrub := a.secrets(loc)
	auth, err := transportAuth(loc, a, f.opts.InsecureIgnoreHostKey, f.opts.Timeout)
	if err != nil {
		return target{}, plumbing.ZeroHash, err
	}
	fail := func(err error) (target, plumbing.Hash, error) {
		return target{}, plumbing.ZeroHash, classify(ctx, err, loc, f.opts.Timeout, scrub)
	}

	remote := git.NewRemote(repo.Storer, &config.RemoteConfig{Name: "origin", URLs: []string{loc.raw}})
	refs, err := remote.ListContext(ctx, &git.ListOptions{Auth: auth})
	if err != nil {
		return fail(err)
	}
	tgt, err := newRefTable(refs).resolve(ref, loc.display)
	if err != nil {
		return target{}, plumbing.ZeroHash, err
	}
	if hasObject(repo, tgt.hash) {
		return tgt, tgt.hash, nil
	}
	if err := f.disk.roomToFetch(loc.display); err != nil {
		return target{}, plumbing.ZeroHash, err
	}

	*fetched = true
	err = remote.FetchContext(ctx, &git.FetchOptions{RefSpecs: tgt.refSpecs, Auth: auth, Tags: git.NoTags, Force: true})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return fail(err)
	}
	if tgt.localRef != "" {
		if r, err := repo.Reference(tgt.localRef, true); err == nil && hasObject(repo, r.Hash()) {
			return tgt, r.Hash(), nil
		}
	}
	if hasObject(repo, tgt.hash) {
		return tgt, tgt.hash, nil
	}
	if tgt.name == "" {
		// A commit no branch or tag reaches; servers that allow it
		// (uploadpack.allowReachableSHA1InWant) can still send it.
		spec := config.RefSpec(tgt.hash.String() + ":refs/cruise/commits/" + tgt.hash.String())
		err = remote.FetchContext(ctx, &git.FetchOptions{RefSpecs: []config.RefSpec{spec}, Auth: auth, Tags: git.NoTags})
		if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
			// Any answer other than "cannot talk to you" means the
			// server will not send that SHA: report the ref as missing.
			cerr := classify(ctx, err, loc, f.opts.Timeout, scrub)
			if errors.Is(cerr, ErrUnreachable) || errors.Is(cerr, ErrAuth) || errors.Is(cerr, ErrHostKey) {
				return target{}, plumbing.ZeroHash, cerr
			}
		}
		if hasObject(repo, tgt.hash) {
			return tgt, tgt.hash, nil
		}
	}
	return target{}, plumbing.ZeroHash, newError(ErrRefNotFound, nil, nil, "ref %q not found in %s", ref.String(), loc.display)
}

func hasObject(repo *git.Repository, h plumbing.Hash) bool {
	return !h.IsZero() && repo.Storer.HasEncodedObject(h) == nil
}

// peelToCommit follows annotated tags (possibly nested) to a commit.
func peelToCommit(s storer.EncodedObjectStorer, h plumbing.Hash) (*object.Commit, error) {
	for range 10 {
		obj, err := s.EncodedObject(plumbing.AnyObject, h)
		if err != nil {
			return nil, err
		}
		switch obj.Type() {
		case plumbing.CommitObject:
			return object.DecodeCommit(s, obj)
		case plumbing.TagObject:
			tag, err := object.DecodeTag(s, obj)
			if err != nil {
				return nil, err
			}
			h = tag.Target
		default:
			return nil, errors.New("it is a " + obj.Type().String() + ", not a commit")
		}
	}
	return nil, errors.New("tags nested too deeply")
}
