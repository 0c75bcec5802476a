package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// errReadOnly is returned for any write kustomize attempts: a build only
// reads, and the checkout must stay pristine.
var errReadOnly = errors.New("the repository is read-only during render")

// confinedFS is the filesystem handed to kustomize. Every operation goes
// through the confiner, so kustomize sees only the repository (and, when
// remote bases are allowed, its own clone directories), whatever its
// kustomization files say and whatever symlinks the repository holds.
//
// Operations that answer with a bool (Exists, IsDir) answer false for a
// path outside the root; operations that return data fail with an *Error of
// kind ErrPathEscape, which is also recorded so Render can report it even
// when kustomize rewraps or flattens the error.
type confinedFS struct {
	c *confiner
}

var _ filesys.FileSystem = confinedFS{}

func (f confinedFS) fail(err error) error {
	f.c.noteViolation(err)
	return err
}

// Create refuses: see errReadOnly.
func (f confinedFS) Create(path string) (filesys.File, error) {
	return nil, &Error{File: f.c.rel(f.c.abs(path)), Err: errReadOnly}
}

// Mkdir refuses: see errReadOnly.
func (f confinedFS) Mkdir(path string) error {
	return &Error{File: f.c.rel(f.c.abs(path)), Err: errReadOnly}
}

// MkdirAll refuses: see errReadOnly.
func (f confinedFS) MkdirAll(path string) error {
	return &Error{File: f.c.rel(f.c.abs(path)), Err: errReadOnly}
}

// RemoveAll is allowed only on a whole kustomize clone directory, which is
// how kustomize cleans up after a remote base.
func (f confinedFS) RemoveAll(path string) error {
	abs := f.c.abs(path)
	if area := f.c.area(abs); area != "" && area != f.c.root && area == abs {
		return os.RemoveAll(abs)
	}
	return &Error{File: f.c.rel(abs), Err: errReadOnly}
}

// Open opens a regular file for reading, charged against the byte limits
// like ReadFile. kustomize's build does not use it; it is confined anyway.
func (f confinedFS) Open(path string) (filesys.File, error) {
	if err := f.c.ctx.Err(); err != nil {
		return nil, err
	}
	abs := f.c.abs(path)
	display := f.c.rel(abs)
	resolved, err := f.c.resolve(abs, display)
	if err != nil {
		return nil, f.fail(err)
	}
	file, size, err := f.c.open(resolved, display)
	if err != nil {
		return nil, f.fail(err)
	}
	if size > f.c.maxFile {
		file.Close()
		return nil, f.fail(f.c.tooLargeFile(display, size))
	}
	if err := f.c.charge(display, size); err != nil {
		file.Close()
		return nil, f.fail(err)
	}
	if f.c.area(abs) == f.c.root {
		f.c.record(display, f.c.rel(resolved))
	}
	return file, nil
}

// IsDir reports whether path is a directory inside the allowed area.
func (f confinedFS) IsDir(path string) bool {
	resolved, err := f.c.resolve(path, "")
	if err != nil {
		return false
	}
	info, err := os.Stat(resolved)
	return err == nil && info.IsDir()
}

// ReadDir lists the names in a directory inside the allowed area.
func (f confinedFS) ReadDir(path string) ([]string, error) {
	resolved, err := f.c.resolve(path, "")
	if err != nil {
		return nil, f.fail(err)
	}
	entries, err := os.ReadDir(resolved)
	if err != nil {
		return nil, &Error{File: f.c.rel(f.c.abs(path)), Err: unwrapPathError(err)}
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, nil
}

// CleanedAbs splits path into a symlink-free directory and a file name
// (empty when path is a directory), like the on-disk filesystem, but
// without its log.Fatalf on surprises and only inside the allowed area.
// kustomize builds its loader roots from this, so confining it confines
// where bases may live.
func (f confinedFS) CleanedAbs(path string) (filesys.ConfirmedDir, string, error) {
	resolved, err := f.c.resolve(path, "")
	if err != nil {
		return "", "", f.fail(err)
	}
	info, err := os.Stat(resolved)
	if err != nil {
		return "", "", &Error{File: f.c.rel(f.c.abs(path)), Err: unwrapPathError(err)}
	}
	if info.IsDir() {
		return filesys.ConfirmedDir(resolved), "", nil
	}
	return filesys.ConfirmedDir(filepath.Dir(resolved)), filepath.Base(resolved), nil
}

// Exists reports whether path exists inside the allowed area.
func (f confinedFS) Exists(path string) bool {
	_, err := f.c.resolve(path, "")
	return err == nil
}

// Glob matches pattern and keeps only matches inside the allowed area.
func (f confinedFS) Glob(pattern string) ([]string, error) {
	matches, err := filesys.MakeFsOnDisk().Glob(f.c.abs(pattern))
	if err != nil {
		return nil, fmt.Errorf("glob %q: %w", pattern, err)
	}
	var kept []string
	for _, m := range matches {
		if _, err := f.c.resolve(m, ""); err == nil {
			kept = append(kept, m)
		}
	}
	return kept, nil
}

// ReadFile reads a file inside the allowed area, within the byte limits,
// decrypting a SOPS file.
func (f confinedFS) ReadFile(path string) ([]byte, error) {
	data, _, err := f.c.readManifest(path, "")
	if err != nil {
		return nil, f.fail(err)
	}
	return data, nil
}

// WriteFile refuses: see errReadOnly.
func (f confinedFS) WriteFile(path string, _ []byte) error {
	return &Error{File: f.c.rel(f.c.abs(path)), Err: errReadOnly}
}

// Walk walks path, refusing to visit (or descend through) anything whose
// resolved location leaves the allowed area. filepath.Walk does not follow
// symlinked directories, so checking each visited path suffices.
func (f confinedFS) Walk(path string, walkFn filepath.WalkFunc) error {
	start, err := f.c.resolve(path, "")
	if err != nil {
		return f.fail(err)
	}
	return filepath.Walk(start, func(p string, info fs.FileInfo, err error) error {
		if _, rerr := f.c.resolve(p, ""); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return f.fail(rerr)
		}
		return walkFn(p, info, err)
	})
}
