package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// confiner is the single gate every file read of a Render call goes
// through, in both modes: it keeps reads inside the root, enforces the byte
// limits and remembers what was read. One confiner serves one Render call.
type confiner struct {
	ctx      context.Context
	root     string   // absolute, symlinks resolved
	dir      *os.Root // opened on root; reads inside root go through it
	cloneTmp string   // resolved temp dir holding kustomize's git clones; "" when remote bases are refused
	maxFile  int64
	maxTotal int64
	sops     *decrypter

	mu        sync.Mutex // guards the fields below
	total     int64
	read      map[string]struct{}
	violation *Error // first escape or limit breach seen by the kustomize filesystem
}

func newConfiner(ctx context.Context, opts Options) (*confiner, error) {
	if opts.Root == "" {
		return nil, &Error{Err: errors.New("Options.Root is empty")}
	}
	abs, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, &Error{File: opts.Root, Err: fmt.Errorf("root: %w", err)}
	}
	// Resolving the root itself is what makes the prefix checks below
	// meaningful: every path is compared after its symlinks are resolved.
	root, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, &Error{File: opts.Root, Err: fmt.Errorf("root: %w", unwrapPathError(err))}
	}
	dir, err := os.OpenRoot(root)
	if err != nil {
		return nil, &Error{File: opts.Root, Err: fmt.Errorf("root: %w", unwrapPathError(err))}
	}
	c := &confiner{
		ctx:      ctx,
		root:     root,
		dir:      dir,
		maxFile:  opts.MaxFileBytes,
		maxTotal: opts.MaxTotalBytes,
		read:     map[string]struct{}{},
		sops:     newDecrypter(opts.Decryption),
	}
	if opts.AllowRemoteBases {
		// kustomize clones into os.MkdirTemp("", "kustomize-"), resolved.
		if tmp, err := filepath.EvalSymlinks(os.TempDir()); err == nil {
			c.cloneTmp = tmp
		}
	}
	return c, nil
}

func (c *confiner) close() error { return c.dir.Close() }

// within reports whether p is dir or below it; both must be clean and
// absolute.
func within(dir, p string) bool {
	if p == dir {
		return true
	}
	if !strings.HasSuffix(dir, string(filepath.Separator)) {
		dir += string(filepath.Separator)
	}
	return strings.HasPrefix(p, dir)
}

// area names the tree abs belongs to: the root, one kustomize clone
// directory, or "" for anywhere else. A symlink must resolve into the same
// area it sits in, so a repository cannot reach into a clone and a clone
// cannot reach into the repository or another clone.
func (c *confiner) area(abs string) string {
	if within(c.root, abs) {
		return c.root
	}
	if c.cloneTmp == "" || !within(c.cloneTmp, abs) || abs == c.cloneTmp {
		return ""
	}
	rel, err := filepath.Rel(c.cloneTmp, abs)
	if err != nil {
		return ""
	}
	first, _, _ := strings.Cut(rel, string(filepath.Separator))
	if !strings.HasPrefix(first, "kustomize-") {
		return ""
	}
	return filepath.Join(c.cloneTmp, first)
}

// rel names abs for messages and Result.Files: slash-separated and relative
// to the root. A path just outside the root keeps the "../" form a
// kustomization would use; one far outside is clearer absolute
// ("/etc/passwd", not "../../../../etc/passwd").
func (c *confiner) rel(abs string) string {
	r, err := filepath.Rel(c.root, abs)
	if err != nil {
		return abs
	}
	r = filepath.ToSlash(r)
	if strings.HasPrefix(r, "../../../") {
		return abs
	}
	return r
}

// abs makes p absolute and clean; relative paths are taken relative to the
// root, never to the process's working directory.
func (c *confiner) abs(p string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(c.root, p)
	}
	return filepath.Clean(p)
}

// resolve returns p with every symlink resolved, after checking that both p
// and the result lie in the same allowed area. display names p in errors;
// empty means c.rel(p). A path that does not exist yields an *Error wrapping
// fs.ErrNotExist.
func (c *confiner) resolve(p, display string) (string, error) {
	abs := c.abs(p)
	if display == "" {
		display = c.rel(abs)
	}
	area := c.area(abs)
	if area == "" {
		return "", &Error{File: display, Kind: ErrPathEscape,
			Err: errors.New("path is outside the repository root")}
	}
	resolved, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", &Error{File: display, Err: unwrapPathError(err)}
	}
	if c.area(resolved) != area {
		return "", &Error{File: display, Kind: ErrPathEscape,
			Err: fmt.Errorf("symlink resolves to %s, outside the repository root", resolved)}
	}
	if resolved != abs && area == c.root {
		c.recordLinks(abs)
	}
	return resolved, nil
}

// recordLinks records every symlink on the way from the root to abs. Git
// tracks a symlink as a file of its own, so retargeting one shows up as a
// change to the link, not to what it pointed at; Result.Files has to list
// it for change detection to notice.
func (c *confiner) recordLinks(abs string) {
	rel, err := filepath.Rel(c.root, abs)
	if err != nil || rel == "." {
		return
	}
	p := c.root
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		p = filepath.Join(p, part)
		info, err := os.Lstat(p)
		if err != nil {
			return
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			c.record(c.rel(p))
		}
	}
}

// readFile reads the file at p (see resolve for p and display), enforcing
// the limits and recording the read.
func (c *confiner) readFile(p, display string) ([]byte, error) {
	data, _, err := c.readResolved(p, display)
	return data, err
}

// readResolved is readFile that also returns the path with its symlinks
// resolved.
func (c *confiner) readResolved(p, display string) ([]byte, string, error) {
	if err := c.ctx.Err(); err != nil {
		return nil, "", err
	}
	abs := c.abs(p)
	if display == "" {
		display = c.rel(abs)
	}
	resolved, err := c.resolve(abs, display)
	if err != nil {
		return nil, "", err
	}
	f, size, err := c.open(resolved, display)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	if size > c.maxFile {
		return nil, "", c.tooLargeFile(display, size)
	}
	if err := c.charge(display, size); err != nil {
		return nil, "", err
	}
	// The limit reader guards against a file that grew after Stat.
	data, err := io.ReadAll(io.LimitReader(f, c.maxFile+1))
	if err != nil {
		return nil, "", &Error{File: display, Err: unwrapPathError(err)}
	}
	if int64(len(data)) > c.maxFile {
		return nil, "", c.tooLargeFile(display, int64(len(data)))
	}
	if extra := int64(len(data)) - size; extra > 0 {
		if err := c.charge(display, extra); err != nil {
			return nil, "", err
		}
	}
	if c.area(abs) == c.root {
		c.record(display, c.rel(resolved))
	}
	return data, resolved, nil
}

// open opens a resolved path for reading after checking it is a regular
// file: opening a FIFO planted in the repository would block forever.
func (c *confiner) open(resolved, display string) (*os.File, int64, error) {
	var (
		info fs.FileInfo
		f    *os.File
		err  error
	)
	inRoot := within(c.root, resolved)
	name := resolved
	if inRoot {
		name, err = filepath.Rel(c.root, resolved)
		if err != nil {
			return nil, 0, &Error{File: display, Err: err}
		}
		info, err = c.dir.Lstat(name)
	} else {
		info, err = os.Lstat(resolved)
	}
	if err != nil {
		return nil, 0, &Error{File: display, Err: unwrapPathError(err)}
	}
	if info.IsDir() {
		return nil, 0, &Error{File: display, Err: errors.New("is a directory")}
	}
	if !info.Mode().IsRegular() {
		return nil, 0, &Error{File: display, Err: fmt.Errorf("not a regular file (%s)", fileType(info.Mode()))}
	}
	if inRoot {
		// Through the os.Root, so the kernel refuses an escape even if the
		// tree changed since resolve.
		f, err = c.dir.Open(name)
	} else {
		f, err = os.Open(resolved)
	}
	if err != nil {
		if strings.Contains(err.Error(), "escapes from parent") {
			return nil, 0, &Error{File: display, Kind: ErrPathEscape, Err: unwrapPathError(err)}
		}
		return nil, 0, &Error{File: display, Err: unwrapPathError(err)}
	}
	return f, info.Size(), nil
}

func fileType(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	default:
		return m.Type().String()
	}
}

func (c *confiner) tooLargeFile(display string, size int64) error {
	return &Error{File: display, Kind: ErrTooLarge,
		Err: fmt.Errorf("file is %d bytes, over the limit of %d (MaxFileBytes)", size, c.maxFile)}
}

// charge adds n bytes to the running total, failing once it passes the
// limit. It is charged before reading so an oversized render stops early.
func (c *confiner) charge(display string, n int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.total+n > c.maxTotal {
		return &Error{File: display, Kind: ErrTooLarge,
			Err: fmt.Errorf("reading this file (%d bytes) takes the render past its limit of %d bytes (MaxTotalBytes)", n, c.maxTotal)}
	}
	c.total += n
	return nil
}

func (c *confiner) record(paths ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range paths {
		c.read[p] = struct{}{}
	}
}

// files returns the recorded reads, sorted.
func (c *confiner) files() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.read))
	for p := range c.read {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// noteViolation remembers the first escape, limit breach or SOPS file that
// did not decrypt. kustomize wraps (and sometimes flattens) the errors its
// filesystem returns; the recorded one is the real cause and is reported
// instead.
func (c *confiner) noteViolation(err error) {
	var e *Error
	if !errors.As(err, &e) || (e.Kind != ErrPathEscape && e.Kind != ErrTooLarge && e.Kind != ErrDecryption) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.violation == nil {
		c.violation = e
	}
}

func (c *confiner) firstViolation() *Error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.violation
}

// unwrapPathError drops the *fs.PathError wrapper, whose message repeats an
// absolute path that is meaningless to the user (the *Error names the file);
// the inner error still satisfies errors.Is(err, fs.ErrNotExist).
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
