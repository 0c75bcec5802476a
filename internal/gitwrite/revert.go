package gitwrite

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/cruisegitops/cruise/internal/source"
)

// DefaultTimeout bounds each network step when Request.Timeout is zero.
const DefaultTimeout = 60 * time.Second

// Signature names a person (or cruise itself) in a commit.
type Signature struct {
	Name, Email string
}

// Request describes one rollback. URL, Branch, Target and Author are
// required; the zero value of every other field works.
type Request struct {
	// URL is the remote: https, ssh, file:// or a local path, as in
	// internal/source.
	URL string
	// Branch is the branch to commit to, e.g. "main".
	Branch string
	// Auth holds the credentials; nil for anonymous access.
	Auth *source.Auth
	// Target is the full SHA of the commit to roll back to.
	Target string
	// Paths are the repo-relative files or directories the rollback is
	// limited to; empty means the whole tree.
	Paths []string
	// Author is the person asking for the rollback.
	Author Signature
	// Committer defaults to "cruise <cruise@localhost>".
	Committer Signature
	// Base, when set, is the full SHA of the head the requester decided
	// on (for cruise: the revision the application last deployed). If the
	// branch has moved since and the new commits changed any of Paths,
	// the rollback would silently discard work nobody has seen deployed:
	// Revert refuses with ErrConflict naming those files.
	Base string
	// Message defaults to one naming the paths, the target and the author.
	Message string
	// Timeout bounds every network step; DefaultTimeout when zero.
	Timeout time.Duration

	// beforePush, when set (by tests), runs after the commit is built and
	// before each push attempt (attempt counts from 0).
	beforePush func(attempt int)
}

// Result is what Revert did.
type Result struct {
	// Commit is the pushed commit's SHA; empty when NoOp.
	Commit string
	// Parent is the branch head the commit was made on (or, when NoOp,
	// the head that already matched the target).
	Parent string
	// Changed are the paths restored (modified, re-added or removed).
	Changed []string
	// NoOp is true when the paths already matched the target and nothing
	// was pushed.
	NoOp bool
}

var fullSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)

const remoteName = "origin"

// Revert commits and pushes a rollback of req.Paths on req.Branch to their
// state at req.Target; see the package documentation for the steps and the
// handling of concurrent pushes.
func Revert(ctx context.Context, req Request) (*Result, error) {
	if req.Timeout <= 0 {
		req.Timeout = DefaultTimeout
	}
	rem, err := source.NewRemote(req.URL, req.Auth, req.Timeout)
	if err != nil {
		return nil, err
	}
	if err := req.validate(rem); err != nil {
		return nil, err
	}
	if req.Committer == (Signature{}) {
		req.Committer = Signature{Name: "cruise", Email: "cruise@localhost"}
	}
	sc, err := normalizePaths(req.Paths)
	if err != nil {
		return nil, rem.Errorf(source.ErrInvalid, nil, "rollback of %s: %v", rem, err)
	}
	sess, err := newSession(rem)
	if err != nil {
		return nil, err
	}
	w := &writer{session: sess, req: req, scope: sc}
	return w.run(ctx)
}

func (r *Request) validate(rem *source.Remote) error {
	switch {
	case r.Branch == "":
		return rem.Errorf(source.ErrInvalid, nil, "no branch given for %s", rem)
	case !fullSHA.MatchString(r.Target):
		return rem.Errorf(source.ErrInvalid, nil, "target %q is not a full commit SHA", r.Target)
	case r.Author.Name == "" || r.Author.Email == "":
		return rem.Errorf(source.ErrInvalid, nil, "rollback of %s needs the requester's name and email", rem)
	case r.Base != "" && !fullSHA.MatchString(r.Base):
		return rem.Errorf(source.ErrInvalid, nil, "base %q is not a full commit SHA", r.Base)
	}
	if !plumbing.NewBranchReferenceName(r.Branch).IsBranch() || plumbing.ReferenceName("refs/heads/"+r.Branch).Validate() != nil {
		return rem.Errorf(source.ErrInvalid, nil, "invalid branch name %q", r.Branch)
	}
	return nil
}

// writer carries one Revert through its steps.
type writer struct {
	*session
	req   Request
	scope scope
}

// plan is a computed rollback on top of one head.
type plan struct {
	head    *object.Commit
	headMap flatTree
	commit  plumbing.Hash // zero when noop
	changed []string
}

func (w *writer) run(ctx context.Context) (*Result, error) {
	head, err := w.fetch(ctx)
	if err != nil {
		return nil, err
	}
	if err := w.checkBase(head); err != nil {
		return nil, err
	}
	p, err := w.compute(head)
	if err != nil || p.commit.IsZero() {
		return p.result(), err
	}
	for attempt := 0; ; attempt++ {
		if w.req.beforePush != nil {
			w.req.beforePush(attempt)
		}
		pushErr := w.push(ctx, p.commit, w.req.Branch)
		if pushErr == nil {
			return p.result(), nil
		}
		if !errors.Is(pushErr, ErrRejected) || attempt > 0 {
			return nil, pushErr
		}
		// Rejected: find out whether the branch moved under us.
		newHead, err := w.fetch(ctx)
		if err != nil {
			return nil, err
		}
		if newHead.Hash == p.head.Hash {
			return nil, pushErr
		}
		newMap, err := w.treeOf(newHead)
		if err != nil {
			return nil, err
		}
		if touched := diffIn(p.headMap, newMap, w.scope); len(touched) > 0 {
			return nil, conflict(w.remote, touched,
				"%s: branch %s moved from %s to %s while rolling back; the new commits changed %s, refusing to overwrite them",
				w.remote, w.req.Branch, short(p.head.Hash), short(newHead.Hash), joinPaths(touched))
		}
		if p, err = w.compute(newHead); err != nil || p.commit.IsZero() {
			return p.result(), err
		}
	}
}

// checkBase refuses when commits after Base changed the restored paths.
func (w *writer) checkBase(head *object.Commit) error {
	if w.req.Base == "" || head.Hash.String() == w.req.Base {
		return nil
	}
	base, err := w.repo.CommitObject(plumbing.NewHash(w.req.Base))
	if err != nil {
		return w.remote.Errorf(ErrNotAncestor, err, "%s: base %s is not in the history of %s", w.remote, w.req.Base, w.req.Branch)
	}
	baseMap, err := w.treeOf(base)
	if err != nil {
		return err
	}
	headMap, err := w.treeOf(head)
	if err != nil {
		return err
	}
	if touched := diffIn(baseMap, headMap, w.scope); len(touched) > 0 {
		return conflict(w.remote, touched,
			"%s: branch %s has commits after %s (now at %s) that changed %s; roll back after they are deployed, or revert them by hand",
			w.remote, w.req.Branch, short(base.Hash), short(head.Hash), joinPaths(touched))
	}
	return nil
}

func (p *plan) result() *Result {
	if p == nil {
		return nil
	}
	r := &Result{Parent: p.head.Hash.String(), Changed: p.changed}
	if p.commit.IsZero() {
		r.NoOp = true
	} else {
		r.Commit = p.commit.String()
	}
	return r
}

// fetch brings the branch into memory and returns its head commit.
func (w *writer) fetch(ctx context.Context) (*object.Commit, error) {
	found, err := w.fetchBranch(ctx, w.req.Branch)
	if err != nil {
		return nil, err
	}
	var c *object.Commit
	if found {
		if c, err = w.head(w.req.Branch); err != nil {
			return nil, err
		}
	}
	if c == nil {
		return nil, w.remote.Errorf(source.ErrRefNotFound, nil, "branch %q not found in %s", w.req.Branch, w.remote)
	}
	return c, nil
}

// compute checks the target against head and, unless nothing changes,
// writes the rollback commit to the in-memory store.
func (w *writer) compute(head *object.Commit) (*plan, error) {
	target := plumbing.NewHash(w.req.Target)
	notAncestor := func() error {
		return w.remote.Errorf(ErrNotAncestor, nil, "%s: target %s is not an ancestor of %s (head %s)",
			w.remote, target, w.req.Branch, head.Hash)
	}
	tc, err := w.repo.CommitObject(target)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, notAncestor() // not reachable from the branch, so not fetched
	}
	if err != nil {
		return nil, w.remote.Errorf(nil, err, "cannot read target %s in %s", target, w.remote)
	}
	if ok, err := tc.IsAncestor(head); err != nil {
		return nil, w.remote.Errorf(nil, err, "cannot walk history of %s in %s", w.req.Branch, w.remote)
	} else if !ok {
		return nil, notAncestor()
	}
	headMap, err := w.treeOf(head)
	if err != nil {
		return nil, err
	}
	targetMap, err := w.treeOf(tc)
	if err != nil {
		return nil, err
	}
	next, changed := restore(headMap, targetMap, w.scope)
	p := &plan{head: head, headMap: headMap, changed: changed}
	if len(changed) == 0 {
		return p, nil
	}
	st := w.repo.Storer
	tree, err := writeTree(st, next)
	if err != nil {
		return nil, w.remote.Errorf(nil, err, "cannot write rollback tree for %s", w.remote)
	}
	now := time.Now()
	c := &object.Commit{
		Author:       object.Signature{Name: w.req.Author.Name, Email: w.req.Author.Email, When: now},
		Committer:    object.Signature{Name: w.req.Committer.Name, Email: w.req.Committer.Email, When: now},
		Message:      w.message(),
		TreeHash:     tree,
		ParentHashes: []plumbing.Hash{head.Hash},
	}
	o := st.NewEncodedObject()
	if err := c.Encode(o); err != nil {
		return nil, w.remote.Errorf(nil, err, "cannot encode rollback commit for %s", w.remote)
	}
	if p.commit, err = st.SetEncodedObject(o); err != nil {
		return nil, w.remote.Errorf(nil, err, "cannot store rollback commit for %s", w.remote)
	}
	return p, nil
}

func (w *writer) message() string {
	if w.req.Message != "" {
		return w.req.Message
	}
	return fmt.Sprintf("Roll back %s to %s\n\nRestores %s to their state at commit %s.\nRequested by %s <%s> via cruise.\n",
		w.scope, w.req.Target[:7], w.scope, w.req.Target, w.req.Author.Name, w.req.Author.Email)
}

func short(h plumbing.Hash) string { return h.String()[:7] }

// joinPaths lists at most ten paths, so the message stays readable.
func joinPaths(p []string) string {
	if len(p) > 10 {
		return fmt.Sprintf("%s and %d more", scope(p[:10]), len(p)-10)
	}
	return scope(p).String()
}
