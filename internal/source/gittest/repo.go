package gittest

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// File is one entry of a commit's tree.
type File struct {
	Content string
	// Mode is filemode.Regular when zero.
	Mode filemode.FileMode
}

// Symlink returns a symlink entry pointing at target.
func Symlink(target string) File { return File{Content: target, Mode: filemode.Symlink} }

// Executable returns an executable file entry.
func Executable(content string) File { return File{Content: content, Mode: filemode.Executable} }

// Repo is a repository under construction. Commits go to the branch HEAD
// points to ("main").
type Repo struct {
	// Dir is the repository directory (the .git parent, or the bare repo).
	Dir string

	t       testing.TB
	r       *git.Repository
	commits int // drives the commit timestamps, so SHAs are reproducible
}

// baseTime is the author time of the first commit; each commit adds a
// minute.
func baseTime() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) }

// NewRepo initializes a repository in dir with HEAD on "main". A bare one
// is what servers usually hold; a non-bare one (dir/.git) is what a
// developer has locally. Its work tree is left empty: commits are written
// to the object store directly.
func NewRepo(t testing.TB, dir string, bare bool) *Repo {
	t.Helper()
	r, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		Bare:        bare,
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		t.Fatalf("gittest: init %s: %v", dir, err)
	}
	return &Repo{Dir: dir, t: t, r: r}
}

// Commit commits regular files (path -> content) as the whole tree and
// returns the commit SHA.
func (r *Repo) Commit(msg string, files map[string]string) string {
	r.t.Helper()
	entries := make(map[string]File, len(files))
	for p, c := range files {
		entries[p] = File{Content: c}
	}
	return r.CommitFiles(msg, entries)
}

// CommitDir commits the regular files under dir (e.g. testdata/<scenario>)
// as the whole tree.
func (r *Repo) CommitDir(msg, dir string) string {
	r.t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		r.t.Fatalf("gittest: read %s: %v", dir, err)
	}
	return r.Commit(msg, files)
}

// CommitFiles commits entries (path -> File) as the whole tree on the HEAD
// branch and returns the commit SHA. Paths are split on "/" and not
// cleaned: "../x" makes a tree entry named "..".
func (r *Repo) CommitFiles(msg string, files map[string]File) string {
	r.t.Helper()
	root := &dirNode{}
	for p, f := range files {
		root.add(strings.Split(p, "/"), f)
	}
	tree := r.writeTree(root)

	head, err := r.r.Storer.Reference(plumbing.HEAD)
	if err != nil {
		r.t.Fatalf("gittest: read HEAD: %v", err)
	}
	branch := head.Target()
	var parents []plumbing.Hash
	if cur, err := r.r.Storer.Reference(branch); err == nil {
		parents = append(parents, cur.Hash())
	}
	r.commits++
	sig := object.Signature{Name: "Test Author", Email: "author@example.com", When: baseTime().Add(time.Duration(r.commits) * time.Minute)}
	c := &object.Commit{Author: sig, Committer: sig, Message: msg, TreeHash: tree, ParentHashes: parents}
	h := r.store(c)
	r.setRef(plumbing.NewHashReference(branch, h))
	return h.String()
}

// Tag creates a lightweight tag at rev (a SHA).
func (r *Repo) Tag(name, rev string) {
	r.t.Helper()
	r.setRef(plumbing.NewHashReference(plumbing.NewTagReferenceName(name), plumbing.NewHash(rev)))
}

// AnnotatedTag creates an annotated tag object at rev and returns the tag
// object's SHA.
func (r *Repo) AnnotatedTag(name, rev, msg string) string {
	r.t.Helper()
	sig := object.Signature{Name: "Tagger", Email: "tagger@example.com", When: baseTime()}
	tag := &object.Tag{Name: name, Tagger: sig, Message: msg, TargetType: plumbing.CommitObject, Target: plumbing.NewHash(rev)}
	h := r.store(tag)
	r.setRef(plumbing.NewHashReference(plumbing.NewTagReferenceName(name), h))
	return h.String()
}

// Branch points branch name at rev, creating it if needed.
func (r *Repo) Branch(name, rev string) {
	r.t.Helper()
	r.setRef(plumbing.NewHashReference(plumbing.NewBranchReferenceName(name), plumbing.NewHash(rev)))
}

// SetHEAD makes HEAD point at branch name; later commits go there.
func (r *Repo) SetHEAD(name string) {
	r.t.Helper()
	r.setRef(plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName(name)))
}

func (r *Repo) setRef(ref *plumbing.Reference) {
	r.t.Helper()
	if err := r.r.Storer.SetReference(ref); err != nil {
		r.t.Fatalf("gittest: set %s: %v", ref.Name(), err)
	}
}

type encoder interface {
	Encode(plumbing.EncodedObject) error
}

func (r *Repo) store(o encoder) plumbing.Hash {
	r.t.Helper()
	obj := r.r.Storer.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		r.t.Fatalf("gittest: encode: %v", err)
	}
	h, err := r.r.Storer.SetEncodedObject(obj)
	if err != nil {
		r.t.Fatalf("gittest: store: %v", err)
	}
	return h
}

func (r *Repo) blob(content string) plumbing.Hash {
	r.t.Helper()
	obj := r.r.Storer.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err == nil {
		_, err = w.Write([]byte(content))
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		r.t.Fatalf("gittest: write blob: %v", err)
	}
	h, err := r.r.Storer.SetEncodedObject(obj)
	if err != nil {
		r.t.Fatalf("gittest: store blob: %v", err)
	}
	return h
}

// dirNode is a directory of the tree being built.
type dirNode struct {
	files map[string]File
	dirs  map[string]*dirNode
}

func (d *dirNode) add(parts []string, f File) {
	if len(parts) == 1 {
		if d.files == nil {
			d.files = map[string]File{}
		}
		d.files[parts[0]] = f
		return
	}
	if d.dirs == nil {
		d.dirs = map[string]*dirNode{}
	}
	sub, ok := d.dirs[parts[0]]
	if !ok {
		sub = &dirNode{}
		d.dirs[parts[0]] = sub
	}
	sub.add(parts[1:], f)
}

func (r *Repo) writeTree(d *dirNode) plumbing.Hash {
	r.t.Helper()
	var entries []object.TreeEntry
	for name, f := range d.files {
		mode := f.Mode
		if mode == 0 {
			mode = filemode.Regular
		}
		entries = append(entries, object.TreeEntry{Name: name, Mode: mode, Hash: r.blob(f.Content)})
	}
	for name, sub := range d.dirs {
		entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: r.writeTree(sub)})
	}
	sort.Sort(object.TreeEntrySorter(entries))
	return r.store(&object.Tree{Entries: entries})
}
