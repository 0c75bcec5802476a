package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// maxSymlinkTarget is PATH_MAX on Linux; longer targets cannot be created
// anyway and are rejected before reading them into memory.
const maxSymlinkTarget = 4096

// checkout materializes the tree of commit in CacheDir/checkouts/<sha>,
// reusing it when present, and returns it held (see Artifact.Release). It
// writes into a temporary directory renamed into place at the end, so the
// final directory is either complete or absent.
func (f *Fetcher) checkout(ctx context.Context, objects storer.EncodedObjectStorer, commit *object.Commit, loc *location) (string, *lease, error) {
	sha := commit.Hash.String()
	parent := filepath.Join(f.opts.CacheDir, "checkouts")
	final := filepath.Join(parent, sha)
	if held, ok := f.disk.holdExisting(sha); ok {
		return final, held, nil
	}
	tree, err := commit.Tree()
	if err != nil {
		return "", nil, newError(nil, err, nil, "cannot read tree of commit %s in %s", shortSHA(sha), loc.display)
	}
	tmp, err := os.MkdirTemp(parent, ".tmp-"+shortSHA(sha)+"-")
	if err != nil {
		return "", nil, newError(nil, err, nil, "cannot create checkout of %s", shortSHA(sha))
	}
	w := &treeWriter{
		ctx:      ctx,
		sha:      sha,
		objects:  objects,
		root:     tmp,
		display:  loc.display,
		maxFile:  f.opts.MaxFileBytes,
		maxTotal: f.opts.MaxTotalBytes,
	}
	err = w.writeTree(tree, "")
	if err == nil {
		err = os.Chmod(tmp, 0o755) // MkdirTemp made it 0700
	}
	var size int64
	if err == nil {
		if size, err = diskUsage(tmp); err != nil {
			err = newError(nil, err, nil, "cannot measure checkout of %s", shortSHA(sha))
		}
	}
	var held *lease
	if err == nil {
		var placed bool
		held, placed, err = f.disk.publish(sha, size, func() error {
			err := os.Rename(tmp, final)
			if fi, statErr := os.Lstat(final); err != nil && statErr == nil && fi.IsDir() {
				// Written by another process sharing CacheDir, which is
				// not supported but harmless: it is complete and identical.
				_ = os.RemoveAll(tmp)
				return nil
			}
			if err != nil {
				return newError(nil, err, nil, "cannot finish checkout of %s", shortSHA(sha))
			}
			return nil
		}, fmt.Sprintf("checkout of commit %s of %s", shortSHA(sha), loc.display))
		if err == nil && !placed {
			// Another fetch of the same commit (through another URL)
			// finished first; its checkout is complete and identical.
			_ = os.RemoveAll(tmp)
		}
	}
	if err != nil {
		_ = os.RemoveAll(tmp)
		return "", nil, err
	}
	return final, held, nil
}

// treeWriter writes one tree, enforcing the size limits and path safety.
type treeWriter struct {
	ctx      context.Context
	sha      string // commit SHA, for messages
	objects  storer.EncodedObjectStorer
	root     string
	display  string
	maxFile  int64
	maxTotal int64
	total    int64 // bytes written so far
}

func (w *treeWriter) writeTree(t *object.Tree, rel string) error {
	for _, e := range t.Entries {
		if err := w.ctx.Err(); err != nil {
			return newError(nil, err, nil, "checkout of commit %s in %s interrupted", shortSHA(w.sha), w.display)
		}
		p := e.Name
		if rel != "" {
			p = rel + "/" + e.Name
		}
		if !safeName(e.Name) {
			return newError(ErrUnsafePath, nil, nil, "unsafe path %q in commit %s of %s", p, shortSHA(w.sha), w.display)
		}
		// Every parent of dst is a directory this writer created, and each
		// create below fails on an existing name instead of following it,
		// so a symlink entry can never redirect a later write.
		dst := filepath.Join(w.root, filepath.FromSlash(p))
		var err error
		switch e.Mode {
		case filemode.Dir:
			err = w.writeDir(e, p, dst)
		case filemode.Regular, filemode.Deprecated, filemode.Executable:
			err = w.writeFile(e, p, dst)
		case filemode.Symlink:
			err = w.writeSymlink(e, p, dst)
		case filemode.Submodule:
			// Submodules are not fetched; see the package doc.
		default:
			err = newError(ErrUnsafePath, nil, nil, "path %q in commit %s of %s has unsupported mode %s", p, shortSHA(w.sha), w.display, e.Mode)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *treeWriter) writeDir(e object.TreeEntry, p, dst string) error {
	sub, err := object.GetTree(w.objects, e.Hash)
	if err != nil {
		return w.ioError(err, p)
	}
	if err := os.Mkdir(dst, 0o755); err != nil {
		return w.ioError(err, p)
	}
	// Set the mode explicitly: Mkdir's is filtered by the umask.
	if err := os.Chmod(dst, 0o755); err != nil {
		return w.ioError(err, p)
	}
	return w.writeTree(sub, p)
}

func (w *treeWriter) writeFile(e object.TreeEntry, p, dst string) error {
	blob, err := object.GetBlob(w.objects, e.Hash)
	if err != nil {
		return w.ioError(err, p)
	}
	if err := w.count(blob.Size, p); err != nil {
		return err
	}
	perm := fs.FileMode(0o444)
	if e.Mode == filemode.Executable {
		perm = 0o555
	}
	r, err := blob.Reader()
	if err != nil {
		return w.ioError(err, p)
	}
	defer r.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return w.ioError(err, p)
	}
	_, err = io.Copy(out, io.LimitReader(r, blob.Size))
	if err == nil {
		err = out.Chmod(perm) // OpenFile's mode is filtered by the umask
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return w.ioError(err, p)
	}
	return nil
}

func (w *treeWriter) writeSymlink(e object.TreeEntry, p, dst string) error {
	blob, err := object.GetBlob(w.objects, e.Hash)
	if err != nil {
		return w.ioError(err, p)
	}
	if blob.Size > maxSymlinkTarget {
		return newError(ErrUnsafePath, nil, nil, "symlink %q in commit %s of %s has a %d-byte target", p, shortSHA(w.sha), w.display, blob.Size)
	}
	if err := w.count(blob.Size, p); err != nil {
		return err
	}
	r, err := blob.Reader()
	if err != nil {
		return w.ioError(err, p)
	}
	defer r.Close()
	target, err := io.ReadAll(io.LimitReader(r, maxSymlinkTarget))
	if err != nil {
		return w.ioError(err, p)
	}
	if err := os.Symlink(string(target), dst); err != nil {
		return w.ioError(err, p)
	}
	return nil
}

// count adds size to the running total, failing when a limit is crossed.
func (w *treeWriter) count(size int64, p string) error {
	if size > w.maxFile {
		return newError(ErrTooLarge, nil, nil, "file %q in commit %s of %s is %d bytes, over the %d-byte limit (MaxFileBytes)",
			p, shortSHA(w.sha), w.display, size, w.maxFile)
	}
	w.total += size
	if w.total > w.maxTotal {
		return newError(ErrTooLarge, nil, nil, "commit %s of %s is over the %d-byte total limit (MaxTotalBytes) at file %q",
			shortSHA(w.sha), w.display, w.maxTotal, p)
	}
	return nil
}

func (w *treeWriter) ioError(err error, p string) error {
	if errors.Is(err, fs.ErrExist) {
		return newError(ErrUnsafePath, nil, nil, "duplicate path %q in commit %s of %s", p, shortSHA(w.sha), w.display)
	}
	return newError(nil, err, nil, "cannot write %q of commit %s", p, shortSHA(w.sha))
}

// safeName reports whether a tree entry name is a single, ordinary path
// component. Git itself refuses to check out the others.
func safeName(name string) bool {
	return name != "" && name != "." && name != ".." &&
		!strings.ContainsAny(name, "/\x00") &&
		!strings.EqualFold(name, ".git")
}
