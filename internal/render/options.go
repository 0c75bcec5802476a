package render

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Default limits. They are far above what a sane repository needs and low
// enough that a hostile one cannot make the controller run out of memory.
const (
	DefaultMaxFileBytes  int64 = 5 << 20   // 5 MiB
	DefaultMaxTotalBytes int64 = 100 << 20 // 100 MiB
)

// Options says what to render. The zero value of every field but Root is
// usable.
type Options struct {
	// Root is the checked-out repository, treated as read-only. No file
	// outside it is ever read. Required.
	Root string

	// Path is the directory (or, in plain mode, the single file) to render,
	// relative to Root. Empty or "." means Root itself. It must not be
	// absolute nor climb out of Root.
	Path string

	// AllowRemoteBases lets kustomizations refer to URLs and git
	// repositories. Default false: such references fail with
	// ErrRemoteRefused before anything is fetched.
	AllowRemoteBases bool

	// Ignore holds extra gitignore-syntax patterns, relative to Root, of
	// files plain mode skips, as if written first in Root's .cruiseignore
	// (a GitRepository's spec.ignore).
	Ignore string

	// MaxFileBytes caps the size of any single file read. Zero or negative
	// means DefaultMaxFileBytes.
	MaxFileBytes int64

	// MaxTotalBytes caps the bytes read by one Render call, counting a file
	// again each time kustomize reads it. Zero or negative means
	// DefaultMaxTotalBytes.
	MaxTotalBytes int64

	// Decryption decrypts SOPS-encrypted files. Nil: a SOPS file fails the
	// render with ErrDecryption rather than being applied as ciphertext.
	Decryption *Decryption
}

// DefaultOptions returns Options with every default filled in; set Root
// (and usually Path) before use.
func DefaultOptions() Options {
	return Options{
		MaxFileBytes:  DefaultMaxFileBytes,
		MaxTotalBytes: DefaultMaxTotalBytes,
	}
}

// withDefaults returns o with zero values replaced by defaults.
func (o Options) withDefaults() Options {
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.MaxTotalBytes <= 0 {
		o.MaxTotalBytes = DefaultMaxTotalBytes
	}
	return o
}

// Object is one rendered Kubernetes object and where it came from.
type Object struct {
	*unstructured.Unstructured

	// Source is the repo-relative, slash-separated path of the file the
	// object was read from. In kustomize mode it is the kustomization file
	// that was built, e.g. "overlays/prod/kustomization.yaml", since the
	// object may be the product of several files.
	Source string

	// Sensitive is set when the object holds, or may hold, values
	// decrypted from a SOPS file: whatever shows it must mask its values.
	// In plain mode it marks the objects of decrypted files; in kustomize
	// mode, whose output no longer says which file an object came from,
	// see Decryption and the package documentation.
	Sensitive bool
}

// Result is the outcome of a Render call.
type Result struct {
	// Objects in a stable order; see the package documentation.
	Objects []Object

	// Files lists, sorted and without duplicates, the repo-relative paths of
	// every file the render read: manifests, kustomization files and the
	// bases, patches and generator inputs they pulled in, .cruiseignore
	// files. A file reached through a symlink is listed under both the
	// path it was reached by and its target, and the symlinks on the way
	// are listed too. If none of these change, a kustomize render
	// gives the same output; a plain render can still change when a file is
	// added under Path, so callers should also watch the directory.
	Files []string
}
