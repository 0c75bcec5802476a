package render

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/kustomize/api/konfig"
)

// Render reads the objects at opts.Path inside opts.Root, in kustomize mode
// or plain mode (see the package documentation). It reads files only; it
// never writes to Root. Cancelling ctx stops it at the next file read.
func Render(ctx context.Context, opts Options) (Result, error) {
	opts = opts.withDefaults()
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	rel, err := cleanPath(opts.Path)
	if err != nil {
		return Result{}, err
	}
	c, err := newConfiner(ctx, opts)
	if err != nil {
		return Result{}, err
	}
	defer c.close()

	target, err := c.resolve(filepath.FromSlash(rel), rel)
	if err != nil {
		return Result{}, err
	}
	kfile, err := kustomizationIn(c, target, rel)
	if err != nil {
		return Result{}, err
	}
	var objs []Object
	if kfile != "" {
		objs, err = renderKustomize(c, target, kfile, opts.AllowRemoteBases)
	} else {
		objs, err = renderPlain(c, rel, target, opts.Ignore)
	}
	if err != nil {
		return Result{}, err
	}
	if err := checkDuplicates(objs); err != nil {
		return Result{}, err
	}
	return Result{Objects: objs, Files: c.files()}, nil
}

// cleanPath validates Options.Path and returns it cleaned and
// slash-separated, "." for the root.
func cleanPath(p string) (string, error) {
	if p == "" {
		return ".", nil
	}
	if filepath.IsAbs(p) || path.IsAbs(filepath.ToSlash(p)) {
		return "", &Error{File: p, Kind: ErrPathEscape,
			Err: errors.New("path must be relative to the repository root, not absolute")}
	}
	clean := path.Clean(filepath.ToSlash(p))
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", &Error{File: p, Kind: ErrPathEscape,
			Err: errors.New("path climbs out of the repository root")}
	}
	return clean, nil
}

// kustomizationIn returns the kustomization file in the resolved directory
// dir (named rel), or "" if there is none or dir is a file. A kustomization
// file that is a symlink out of the root is an error here rather than a
// silent switch to plain mode.
func kustomizationIn(c *confiner, dir, rel string) (string, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return "", &Error{File: rel, Err: unwrapPathError(err)}
	}
	if !info.IsDir() {
		return "", nil
	}
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := filepath.Join(dir, name)
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		resolved, err := c.resolve(p, path.Join(rel, name))
		if err != nil {
			return "", err
		}
		if st, err := os.Stat(resolved); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", nil
}

// checkDuplicates fails on two objects with the same group, kind,
// namespace and name: applying both would make one silently win.
func checkDuplicates(objs []Object) error {
	seen := make(map[string]string, len(objs))
	for _, o := range objs {
		id := objectID(o)
		if first, ok := seen[id]; ok {
			return &Error{File: o.Source, Kind: ErrDuplicateObject,
				Err: fmt.Errorf("%s is defined twice (also in %s)", id, first)}
		}
		seen[id] = o.Source
	}
	return nil
}

// objectID names an object for messages and duplicate detection, e.g.
// "apps/Deployment default/web" or "Namespace prod". The version is left
// out: the same object served under two versions is still one object.
func objectID(o Object) string {
	gk := schema.FromAPIVersionAndKind(o.GetAPIVersion(), o.GetKind()).GroupKind()
	kind := gk.Kind
	if gk.Group != "" {
		kind = gk.Group + "/" + kind
	}
	if ns := o.GetNamespace(); ns != "" {
		return kind + " " + ns + "/" + o.GetName()
	}
	return kind + " " + o.GetName()
}

// RenderFS renders from a file system that is not on disk (an embedded
// one, like the install manifests built into cruise): it is copied to a
// temporary directory as the subdirectory mount, rendered with that
// directory as Root (opts.Path is relative to it, so it starts with mount,
// and so do the objects' Source), and removed again. opts.Root is ignored.
func RenderFS(ctx context.Context, fsys fs.FS, mount string, opts Options) (Result, error) {
	dir, err := os.MkdirTemp("", "cruise-render-")
	if err != nil {
		return Result{}, fmt.Errorf("render: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := os.CopyFS(filepath.Join(dir, mount), fsys); err != nil {
		return Result{}, fmt.Errorf("render: copy manifests: %w", err)
	}
	opts.Root = dir
	return Render(ctx, opts)
}
