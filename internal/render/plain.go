package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// ignoreFile is the name of the gitignore-syntax file honoured at Root and
// at Path.
const ignoreFile = ".cruiseignore"

// manifestExts are the file extensions plain mode reads; anything else
// (READMEs, scripts, charts' templates) is ignored.
var manifestExts = map[string]bool{".yaml": true, ".yml": true, ".json": true}

func isManifestName(name string) bool {
	return manifestExts[strings.ToLower(filepath.Ext(name))]
}

// walker collects the objects of a plain-mode render.
type walker struct {
	c       *confiner
	ignore  gitignore.Matcher
	objects []Object
	// stack holds the resolved directories being walked, outermost first,
	// so a symlink back to one of them is reported rather than followed
	// forever.
	stack []string
}

// renderPlain renders the directory or file at resolved, whose
// repo-relative name is rel.
func renderPlain(c *confiner, rel, resolved, extraIgnore string) ([]Object, error) {
	info, err := os.Stat(resolved)
	if err != nil {
		return nil, &Error{File: rel, Err: unwrapPathError(err)}
	}
	w := &walker{c: c}
	if !info.IsDir() {
		if err := w.readManifest(resolved, rel); err != nil {
			return nil, err
		}
		return w.objects, nil
	}
	if w.ignore, err = loadIgnore(c, rel, extraIgnore); err != nil {
		return nil, err
	}
	if err := w.walkDir(rel, resolved); err != nil {
		return nil, err
	}
	// The walk visits entries in per-directory name order, which is not
	// the order of full paths ("a/x.yaml" is walked before "a.yaml");
	// sorting makes the documented key the real one. The sort is stable,
	// keeping document order within a file.
	slices.SortStableFunc(w.objects, func(a, b Object) int { return strings.Compare(a.Source, b.Source) })
	return w.objects, nil
}

// walkDir walks the directory at resolved (symlink-free), named rel.
func (w *walker) walkDir(rel, resolved string) error {
	if err := w.c.ctx.Err(); err != nil {
		return err
	}
	if slices.Contains(w.stack, resolved) {
		return &Error{File: rel, Err: fmt.Errorf("symlink loop: directory is its own ancestor %s", w.c.rel(resolved))}
	}
	w.stack = append(w.stack, resolved)
	defer func() { w.stack = w.stack[:len(w.stack)-1] }()

	entries, err := w.readDir(resolved)
	if err != nil {
		return &Error{File: rel, Err: unwrapPathError(err)}
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			// .git, .github, .gitlab-ci.yml, editor droppings: never
			// manifests, and .git can be huge.
			continue
		}
		childRel := path.Join(rel, name)
		childAbs := filepath.Join(resolved, name)
		isLink := e.Type()&fs.ModeSymlink != 0
		isDir := e.IsDir()
		if isLink {
			// Stat only to learn whether the link points at a directory
			// (for the ignore rules); nothing is read before resolve has
			// confined the target.
			if st, err := os.Stat(childAbs); err == nil {
				isDir = st.IsDir()
			}
		}
		if w.ignored(childRel, isDir) {
			continue
		}
		target := childAbs
		if isLink {
			target, err = w.c.resolve(childAbs, childRel)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && (isDir || !isManifestName(name)) {
					continue // a dangling link to nothing we would read
				}
				return err
			}
		}
		switch {
		case isDir:
			if err := w.walkDir(childRel, target); err != nil {
				return err
			}
		case isManifestName(name):
			if err := w.readManifest(target, childRel); err != nil {
				return err
			}
		}
	}
	return nil
}

// readDir lists a resolved directory through the os.Root, sorted by name.
func (w *walker) readDir(resolved string) ([]fs.DirEntry, error) {
	name, err := filepath.Rel(w.c.root, resolved)
	if err != nil {
		return nil, err
	}
	f, err := w.c.dir.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, nil
}

func (w *walker) readManifest(abs, rel string) error {
	data, decrypted, err := w.c.readManifest(abs, rel)
	if err != nil {
		return err
	}
	objs, err := decodeManifests(rel, data, strings.EqualFold(filepath.Ext(rel), ".json"))
	if err != nil {
		if decrypted && quotesInput(err) {
			return &Error{File: rel, Kind: ErrInvalidManifest,
				Err: errors.New("decrypted, it is not valid YAML or JSON (the parser's message is withheld: it may quote decrypted values)")}
		}
		return err
	}
	for i := range objs {
		objs[i].Sensitive = decrypted
	}
	w.objects = append(w.objects, objs...)
	return nil
}

func (w *walker) ignored(rel string, isDir bool) bool {
	if w.ignore == nil {
		return false
	}
	return w.ignore.Match(splitRel(rel), isDir)
}

// loadIgnore reads .cruiseignore at the root and at rel (the render path).
// Patterns in the root file are relative to the root, those in the path
// file relative to the path, as with nested .gitignore files; the path's
// file wins where they disagree. extra patterns come before both.
func loadIgnore(c *confiner, rel, extra string) (gitignore.Matcher, error) {
	dirs := []string{"."}
	if rel != "." {
		dirs = append(dirs, rel)
	}
	patterns := parseIgnore(extra, nil)
	for _, dir := range dirs {
		name := path.Join(dir, ignoreFile)
		data, err := c.readFile(filepath.FromSlash(name), name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var domain []string
		if dir != "." {
			domain = splitRel(dir)
		}
		patterns = append(patterns, parseIgnore(string(data), domain)...)
	}
	if len(patterns) == 0 {
		return nil, nil
	}
	return gitignore.NewMatcher(patterns), nil
}

// parseIgnore parses gitignore-syntax lines, skipping blanks and comments.
func parseIgnore(text string, domain []string) []gitignore.Pattern {
	var patterns []gitignore.Pattern
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		patterns = append(patterns, gitignore.ParsePattern(line, domain))
	}
	return patterns
}

func splitRel(rel string) []string {
	if rel == "." || rel == "" {
		return nil
	}
	return strings.Split(rel, "/")
}
