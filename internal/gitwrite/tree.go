package gitwrite

import (
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// entry is one non-tree entry of a tree: a blob, symlink or submodule.
type entry struct {
	mode filemode.FileMode
	hash plumbing.Hash
}

// flatTree maps repo-relative paths to their entries.
type flatTree map[string]entry

// scope is the set of repo-relative paths a rollback is limited to; an
// empty scope is the whole tree.
type scope []string

// normalizePaths cleans the requested paths. "", "." and "/" mean the
// whole tree; ".." components are refused.
func normalizePaths(paths []string) (scope, error) {
	var s scope
	for _, p := range paths {
		p = strings.ReplaceAll(p, "\\", "/")
		for _, part := range strings.Split(p, "/") {
			if part == ".." {
				return nil, fmt.Errorf("path %q leaves the repository", p)
			}
		}
		c := strings.TrimPrefix(path.Clean("/"+p), "/")
		if c == "" {
			return nil, nil
		}
		s = append(s, c)
	}
	sort.Strings(s)
	return s, nil
}

func (s scope) contains(p string) bool {
	if len(s) == 0 {
		return true
	}
	for _, d := range s {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

func (s scope) String() string {
	if len(s) == 0 {
		return "the whole tree"
	}
	return strings.Join(s, ", ")
}

// flatten lists every non-tree entry of t by full path.
func flatten(t *object.Tree) (flatTree, error) {
	out := flatTree{}
	w := object.NewTreeWalker(t, true, nil)
	defer w.Close()
	for {
		name, e, err := w.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if e.Mode == filemode.Dir {
			continue
		}
		out[name] = entry{mode: e.Mode, hash: e.Hash}
	}
}

// restore returns head with every path in s replaced by its state in
// target, and the sorted paths that differ from head.
func restore(head, target flatTree, s scope) (flatTree, []string) {
	out := make(flatTree, len(head))
	var changed []string
	for p, e := range head {
		if !s.contains(p) {
			out[p] = e
			continue
		}
		if te, ok := target[p]; ok {
			out[p] = te
			if te != e {
				changed = append(changed, p)
			}
		} else {
			changed = append(changed, p) // added since target: removed
		}
	}
	for p, te := range target {
		if _, ok := head[p]; !ok && s.contains(p) {
			out[p] = te // deleted since target: restored
			changed = append(changed, p)
		}
	}
	sort.Strings(changed)
	return out, changed
}

// diffIn returns the sorted paths inside s whose entries differ between a
// and b.
func diffIn(a, b flatTree, s scope) []string {
	var out []string
	for p, e := range a {
		if be, ok := b[p]; (!ok || be != e) && s.contains(p) {
			out = append(out, p)
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok && s.contains(p) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// dirNode is a directory being written: files by name and subdirectories.
type dirNode struct {
	files map[string]entry
	dirs  map[string]*dirNode
}

// writeTree stores the trees for f in st and returns the root tree hash.
func writeTree(st storer.EncodedObjectStorer, f flatTree) (plumbing.Hash, error) {
	root := &dirNode{}
	for p, e := range f {
		d := root
		parts := strings.Split(p, "/")
		for _, dir := range parts[:len(parts)-1] {
			if d.dirs == nil {
				d.dirs = map[string]*dirNode{}
			}
			if d.dirs[dir] == nil {
				d.dirs[dir] = &dirNode{}
			}
			d = d.dirs[dir]
		}
		if d.files == nil {
			d.files = map[string]entry{}
		}
		d.files[parts[len(parts)-1]] = e
	}
	return root.write(st)
}

func (d *dirNode) write(st storer.EncodedObjectStorer) (plumbing.Hash, error) {
	t := &object.Tree{}
	for name, e := range d.files {
		t.Entries = append(t.Entries, object.TreeEntry{Name: name, Mode: e.mode, Hash: e.hash})
	}
	for name, sub := range d.dirs {
		h, err := sub.write(st)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		t.Entries = append(t.Entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
	}
	// Git orders entries by name, comparing a directory as if it ended
	// in "/".
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(t.Entries, func(i, j int) bool { return key(t.Entries[i]) < key(t.Entries[j]) })
	o := st.NewEncodedObject()
	if err := t.Encode(o); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(o)
}
