package render

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors, matched with errors.Is against what Render returns. Each
// names a class of problem the caller may want to react to differently: all
// of them are permanent for a given commit, so retrying without a new
// revision is pointless.
var (
	// ErrPathEscape means a path, or the target of a symlink, lies outside
	// Options.Root.
	ErrPathEscape = errors.New("path escapes the repository root")
	// ErrTooLarge means a file exceeds Options.MaxFileBytes or the render
	// exceeds Options.MaxTotalBytes.
	ErrTooLarge = errors.New("too large")
	// ErrInvalidManifest means a file is not valid YAML or JSON, or a
	// document in it is not a Kubernetes object.
	ErrInvalidManifest = errors.New("invalid manifest")
	// ErrDuplicateObject means two objects share group, kind, namespace and
	// name.
	ErrDuplicateObject = errors.New("duplicate object")
	// ErrRemoteRefused means a kustomization refers to a URL or a git
	// repository while Options.AllowRemoteBases is false.
	ErrRemoteRefused = errors.New("remote reference refused")
	// ErrPluginRefused means a kustomization asks for a non-builtin
	// generator, transformer or validator (exec, container or KRM function).
	ErrPluginRefused = errors.New("kustomize plugin refused")
	// ErrDecryption means a SOPS-encrypted file could not be decrypted:
	// no decryption is configured, no key opens it, or it was tampered
	// with (see seal.DecryptSOPS).
	ErrDecryption = errors.New("decryption failed")
)

// Error is a render failure tied to one file.
type Error struct {
	// File is the repo-relative, slash-separated path of the culprit; for a
	// path that lies outside the root, the path as it was given.
	File string
	// Line is the 1-based line in File, or 0 when unknown.
	Line int
	// Kind is one of the sentinel errors above, or nil.
	Kind error
	// Err says what went wrong.
	Err error
}

// Error formats as "render: FILE[:LINE]: ERR", on one line.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("render: ")
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(oneLine(e.Err.Error()))
	} else if e.Kind != nil {
		b.WriteString(e.Kind.Error())
	}
	return b.String()
}

// Unwrap exposes both the sentinel and the cause, so errors.Is works for
// either.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// oneLine folds a multi-line message (kustomize and the YAML decoder both
// produce them) so that log lines and status conditions stay readable.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// cleanedError keeps the chain of a third-party error while replacing its
// message, so absolute temp paths and line breaks do not reach the user but
// errors.Is still sees what kustomize returned.
type cleanedError struct {
	msg string
	err error
}

func (e *cleanedError) Error() string { return e.msg }
func (e *cleanedError) Unwrap() error { return e.err }
