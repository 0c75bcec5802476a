package gitwrite

import (
	"context"
	"errors"
	"io"
	"sort"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/cruisegitops/cruise/internal/source"
)

// File is one regular file offered to an Edit.
type File struct {
	// Path is repo-relative, with forward slashes.
	Path string
	// Size in bytes.
	Size int64
	blob *object.Blob
}

// Read returns the file's content.
func (f File) Read() ([]byte, error) {
	r, err := f.blob.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// Edit computes the new content of files: it returns the changed ones by
// path (unchanged files left out) and the commit message. It is called
// once per attempt, on that attempt's head, so it must not carry state
// from one call to the next. A nil map means nothing to commit.
type Edit func(files []File) (changed map[string][]byte, message string, err error)

// UpdateRequest describes one update commit. URL, Branch, Edit and Author
// are required.
type UpdateRequest struct {
	URL  string
	Auth *source.Auth
	// Branch is checked out and updated.
	Branch string
	// PushBranch, when it differs from Branch, receives the commit
	// instead: based on its own head if it exists, else on Branch's.
	PushBranch string
	// Path limits the files offered to Edit; "" or "." is the whole tree.
	Path string
	Edit Edit
	// Author of the commit; the committer too, unless Committer is set.
	Author    Signature
	Committer Signature
	// Signer signs the commit; nil leaves it unsigned.
	Signer Signer
	// Timeout bounds every network step; DefaultTimeout when zero.
	Timeout time.Duration
	// MaxAttempts bounds the fetch-edit-push rounds when others push
	// first; default 5.
	MaxAttempts int

	// beforePush, when set (by tests), runs before each push attempt.
	beforePush func(attempt int)
}

// UpdateResult is what Update did.
type UpdateResult struct {
	// Commit is the pushed commit; empty when NoOp.
	Commit string
	// Parent is the head the commit was made on.
	Parent string
	// Branch is where it was pushed.
	Branch string
	// Files changed, sorted.
	Files []string
	// Message of the commit.
	Message string
	// NoOp: Edit changed nothing, and nothing was pushed.
	NoOp bool
	// Attempts counts pushes tried (more than one when others pushed
	// first).
	Attempts int
}

// maxEditFile bounds the files offered to an Edit.
const maxEditFile = 4 << 20

// Update fetches Branch (or PushBranch), lets Edit change files under
// Path, commits the result and pushes it fast-forward only. A push
// refused because someone pushed first is answered by fetching the new
// head, running Edit again on it, and pushing again: every round works on
// what is really there, and no one's commit is ever overwritten.
func Update(ctx context.Context, req UpdateRequest) (*UpdateResult, error) {
	if req.Timeout <= 0 {
		req.Timeout = DefaultTimeout
	}
	if req.MaxAttempts <= 0 {
		req.MaxAttempts = 5
	}
	rem, err := source.NewRemote(req.URL, req.Auth, req.Timeout)
	if err != nil {
		return nil, err
	}
	if req.PushBranch == "" {
		req.PushBranch = req.Branch
	}
	for _, b := range []string{req.Branch, req.PushBranch} {
		if b == "" || plumbing.ReferenceName("refs/heads/"+b).Validate() != nil {
			return nil, rem.Errorf(source.ErrInvalid, nil, "invalid branch name %q", b)
		}
	}
	if req.Author.Name == "" || req.Author.Email == "" || req.Edit == nil {
		return nil, rem.Errorf(source.ErrInvalid, nil, "update of %s needs an author's name and email and an edit", rem)
	}
	if req.Committer == (Signature{}) {
		req.Committer = req.Author
	}
	sc, err := normalizePaths([]string{req.Path})
	if err != nil {
		return nil, rem.Errorf(source.ErrInvalid, nil, "update of %s: %v", rem, err)
	}
	sess, err := newSession(rem)
	if err != nil {
		return nil, err
	}
	u := &updater{session: sess, req: req, scope: sc}
	return u.run(ctx)
}

type updater struct {
	*session
	req   UpdateRequest
	scope scope
}

func (u *updater) run(ctx context.Context) (*UpdateResult, error) {
	res := &UpdateResult{Branch: u.req.PushBranch}
	var rejected error
	for attempt := 0; attempt < u.req.MaxAttempts; attempt++ {
		head, err := u.base(ctx)
		if err != nil {
			return nil, err
		}
		if rejected != nil && head.Hash.String() == res.Parent {
			// Refused, and nobody pushed: a protected branch or a hook.
			return nil, rejected
		}
		res.Parent = head.Hash.String()
		commit, files, msg, err := u.commit(head)
		if err != nil {
			return nil, err
		}
		res.Files, res.Message = files, msg
		if commit.IsZero() {
			res.NoOp = true
			return res, nil
		}
		if u.req.beforePush != nil {
			u.req.beforePush(attempt)
		}
		res.Attempts = attempt + 1
		err = u.push(ctx, commit, u.req.PushBranch)
		if err == nil {
			res.Commit = commit.String()
			return res, nil
		}
		if !errors.Is(err, ErrRejected) {
			return nil, err
		}
		rejected = err
	}
	return nil, u.remote.Errorf(ErrRejected, nil, "%s: branch %s kept moving: %d pushes refused", u.remote, u.req.PushBranch, u.req.MaxAttempts)
}

// base fetches the branches and returns the commit to build on: the
// push branch's head when it exists, else the checkout branch's.
func (u *updater) base(ctx context.Context) (*object.Commit, error) {
	found, err := u.fetchBranch(ctx, u.req.Branch)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, u.remote.Errorf(source.ErrRefNotFound, nil, "branch %q not found in %s", u.req.Branch, u.remote)
	}
	if u.req.PushBranch != u.req.Branch {
		found, err := u.fetchBranch(ctx, u.req.PushBranch)
		if err != nil {
			return nil, err
		}
		if found {
			if c, err := u.head(u.req.PushBranch); c != nil || err != nil {
				return c, err
			}
		}
	}
	c, err := u.head(u.req.Branch)
	if err == nil && c == nil {
		err = u.remote.Errorf(source.ErrRefNotFound, nil, "branch %q not found in %s", u.req.Branch, u.remote)
	}
	return c, err
}

// commit runs the Edit on head's files and, unless nothing changes, stores
// a commit of the result.
func (u *updater) commit(head *object.Commit) (plumbing.Hash, []string, string, error) {
	tree, err := u.treeOf(head)
	if err != nil {
		return plumbing.ZeroHash, nil, "", err
	}
	var files []File
	for p, e := range tree {
		if !e.mode.IsFile() || !u.scope.contains(p) {
			continue
		}
		blob, err := u.repo.BlobObject(e.hash)
		if err != nil {
			return plumbing.ZeroHash, nil, "", u.remote.Errorf(nil, err, "cannot read %s in %s", p, u.remote)
		}
		if blob.Size > maxEditFile {
			continue
		}
		files = append(files, File{Path: p, Size: blob.Size, blob: blob})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	changed, msg, err := u.req.Edit(files)
	if err != nil {
		return plumbing.ZeroHash, nil, "", err
	}
	var paths []string
	st := u.repo.Storer
	for p, data := range changed {
		e, ok := tree[p]
		if !ok || !u.scope.contains(p) {
			return plumbing.ZeroHash, nil, "", u.remote.Errorf(source.ErrInvalid, nil, "edit changed %s, which is not a file under %s", p, u.scope)
		}
		o := st.NewEncodedObject()
		o.SetType(plumbing.BlobObject)
		w, err := o.Writer()
		if err == nil {
			_, err = w.Write(data)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return plumbing.ZeroHash, nil, "", u.remote.Errorf(nil, err, "cannot store %s", p)
		}
		h, err := st.SetEncodedObject(o)
		if err != nil {
			return plumbing.ZeroHash, nil, "", u.remote.Errorf(nil, err, "cannot store %s", p)
		}
		if h == e.hash {
			continue
		}
		tree[p] = entry{mode: e.mode, hash: h}
		paths = append(paths, p)
	}
	sort.Strings(paths)
	if len(paths) == 0 {
		return plumbing.ZeroHash, nil, msg, nil
	}
	treeHash, err := writeTree(st, tree)
	if err != nil {
		return plumbing.ZeroHash, nil, "", u.remote.Errorf(nil, err, "cannot write tree for %s", u.remote)
	}
	now := time.Now()
	c := &object.Commit{
		Author:       object.Signature{Name: u.req.Author.Name, Email: u.req.Author.Email, When: now},
		Committer:    object.Signature{Name: u.req.Committer.Name, Email: u.req.Committer.Email, When: now},
		Message:      msg,
		TreeHash:     treeHash,
		ParentHashes: []plumbing.Hash{head.Hash},
	}
	if u.req.Signer != nil {
		unsigned := st.NewEncodedObject()
		if err := c.EncodeWithoutSignature(unsigned); err != nil {
			return plumbing.ZeroHash, nil, "", u.remote.Errorf(nil, err, "cannot encode commit")
		}
		r, err := unsigned.Reader()
		if err != nil {
			return plumbing.ZeroHash, nil, "", u.remote.Errorf(nil, err, "cannot encode commit")
		}
		sig, err := u.req.Signer.Sign(r)
		if err != nil {
			return plumbing.ZeroHash, nil, "", u.remote.Errorf(source.ErrInvalid, err, "cannot sign the commit: %v", err)
		}
		c.PGPSignature = string(sig)
	}
	o := st.NewEncodedObject()
	if err := c.Encode(o); err != nil {
		return plumbing.ZeroHash, nil, "", u.remote.Errorf(nil, err, "cannot encode commit for %s", u.remote)
	}
	h, err := st.SetEncodedObject(o)
	if err != nil {
		return plumbing.ZeroHash, nil, "", u.remote.Errorf(nil, err, "cannot store commit for %s", u.remote)
	}
	return h, paths, msg, nil
}
