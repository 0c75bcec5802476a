package gitwrite

import (
	"context"
	"errors"
	"fmt"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/cruisegitops/cruise/internal/source"
)

// session is an in-memory repository with the remote as origin: the Git
// side Revert and Update share (fetch a branch, read trees, push).
type session struct {
	remote *source.Remote
	repo   *git.Repository
}

func newSession(rem *source.Remote) (*session, error) {
	repo, err := git.Init(memory.NewStorage(), nil)
	if err != nil {
		return nil, rem.Errorf(nil, err, "cannot create in-memory repository for %s", rem)
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: remoteName, URLs: []string{rem.URL()}}); err != nil {
		return nil, rem.Errorf(source.ErrInvalid, err, "cannot use remote %s", rem)
	}
	return &session{remote: rem, repo: repo}, nil
}

// fetchBranch brings branch into memory; found is false when the remote
// has no such branch.
func (s *session) fetchBranch(ctx context.Context, branch string) (found bool, err error) {
	spec := config.RefSpec(fmt.Sprintf("+%s:%s", plumbing.NewBranchReferenceName(branch), plumbing.NewRemoteReferenceName(remoteName, branch)))
	netCtx, cancel := context.WithTimeout(ctx, s.remote.Timeout())
	defer cancel()
	err = s.repo.FetchContext(netCtx, &git.FetchOptions{
		RemoteName: remoteName, RefSpecs: []config.RefSpec{spec}, Auth: s.remote.Auth(), Tags: git.NoTags,
	})
	var noMatch git.NoMatchingRefSpecError
	switch {
	case errors.As(err, &noMatch):
		return false, nil
	case err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate):
		return false, s.remote.Classify(netCtx, "fetch from", err)
	}
	return true, nil
}

// head is the fetched head of branch; nil when it was not fetched.
func (s *session) head(branch string) (*object.Commit, error) {
	r, err := s.repo.Reference(plumbing.NewRemoteReferenceName(remoteName, branch), true)
	if err != nil {
		return nil, nil
	}
	c, err := s.repo.CommitObject(r.Hash())
	if err != nil {
		return nil, s.remote.Errorf(nil, err, "cannot read head %s of %s in %s", short(r.Hash()), branch, s.remote)
	}
	return c, nil
}

func (s *session) treeOf(c *object.Commit) (flatTree, error) {
	t, err := c.Tree()
	if err == nil {
		var f flatTree
		if f, err = flatten(t); err == nil {
			return f, nil
		}
	}
	return nil, s.remote.Errorf(nil, err, "cannot read tree of %s in %s", short(c.Hash), s.remote)
}

// push updates the remote branch to commit, fast-forward only; a refusal
// by the remote itself is ErrRejected.
func (s *session) push(ctx context.Context, commit plumbing.Hash, branch string) error {
	local := plumbing.ReferenceName("refs/cruise/push")
	if err := s.repo.Storer.SetReference(plumbing.NewHashReference(local, commit)); err != nil {
		return s.remote.Errorf(nil, err, "cannot record commit for %s", s.remote)
	}
	spec := config.RefSpec(fmt.Sprintf("%s:%s", local, plumbing.NewBranchReferenceName(branch)))
	netCtx, cancel := context.WithTimeout(ctx, s.remote.Timeout())
	defer cancel()
	err := s.repo.PushContext(netCtx, &git.PushOptions{RemoteName: remoteName, RefSpecs: []config.RefSpec{spec}, Auth: s.remote.Auth()})
	if err == nil || errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	if e := s.remote.Classify(netCtx, "push to", err); !reachedRemote(e) {
		return e
	}
	return s.remote.Errorf(ErrRejected, err, "push of %s to %s %s rejected", short(commit), s.remote, branch)
}
