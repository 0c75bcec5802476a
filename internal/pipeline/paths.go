package pipeline

import (
	"path"
	"strings"

	"github.com/cruisegitops/cruise/api/v1alpha1"
)

// Paths lists the parts of its repository an Application is made of:
// spec.path (a directory or a single file) and every file its last render
// read outside it, such as kustomize bases kept elsewhere. Paths are
// slash-separated and relative to the repository root. Nil means the whole
// repository (spec.path is the root).
func Paths(app *v1alpha1.Application) []string {
	dir := path.Clean(app.Spec.Path)
	if dir == "." || dir == "/" {
		return nil
	}
	paths := []string{dir}
	for _, f := range app.Status.RenderedFiles {
		// Render lists only files inside the repository; "../" is a
		// status someone else wrote, and nothing of the repository.
		if f = path.Clean(f); f != dir && !within(f, dir) && !strings.HasPrefix(f, "../") {
			paths = append(paths, f)
		}
	}
	return paths
}

// Affected reports whether any of the changed files (slash-separated,
// relative to the repository root) is one of the Application's Paths or
// inside one, so that rendering it again may give something new. A new
// file under spec.path counts: a plain directory render would read it.
func Affected(app *v1alpha1.Application, changed []string) bool {
	paths := Paths(app)
	if paths == nil {
		return len(changed) > 0
	}
	for _, c := range changed {
		for _, p := range paths {
			if c == p || within(c, p) {
				return true
			}
		}
	}
	return false
}

// within reports whether f is inside the directory dir.
func within(f, dir string) bool { return strings.HasPrefix(f, dir+"/") }
