// Package render turns a directory of a checked-out Git repository into
// Kubernetes objects, each remembering the file it came from.
//
// Render works in one of two modes, chosen by what it finds at Options.Path:
//
//   - Kustomize mode, when Path holds a kustomization file
//     (kustomization.yaml, kustomization.yml or Kustomization). The
//     kustomization is built in-process with kustomize's krusty package, the
//     same code as `kustomize build`, with three restrictions: only builtin
//     generators and transformers run (no exec, container or KRM function
//     plugins, no Helm); remote resources (URLs, git repositories) are refused
//     unless Options.AllowRemoteBases is set; and every file kustomize touches
//     must be inside Options.Root. Within Root, kustomizations may reach
//     upwards (an overlay in overlays/prod may use ../../base or a patch file
//     in ../../common): the repository, not the kustomization directory, is
//     the boundary. Objects keep kustomize's output order, which is the order
//     `kustomize build` prints.
//
//   - Plain mode otherwise. Path (a directory, or a single file) is walked
//     recursively and every *.yaml, *.yml and *.json file is decoded;
//     multi-document YAML, empty and comment-only documents, and List kinds
//     (flattened) are handled. Files and directories whose name starts with a
//     dot are skipped, and so is anything matched by a .cruiseignore file
//     (gitignore syntax) at Root or at Path. Objects are sorted by source
//     path (byte order of the slash-separated repo-relative path), then by
//     position within the file.
//
// In both modes two objects with the same group, kind, namespace and name are
// an error naming both sources. The namespace is compared as written: render
// does not know which kinds are cluster-scoped, nor the default namespace.
//
// # Safety
//
// The repository is untrusted input. Every read, in either mode, goes through
// one confinement check: the path, and the path with every symlink resolved,
// must lie inside Root, or Render fails with ErrPathEscape naming the path.
// Reads inside Root additionally go through an os.Root, so the kernel refuses
// an escape even if a symlink changes between check and read. Options.Path
// must be relative and must not climb out of Root. Each file is limited to
// Options.MaxFileBytes and the render as a whole to Options.MaxTotalBytes
// (ErrTooLarge); special files such as FIFOs are never opened.
//
// When AllowRemoteBases is set, kustomize fetches remote resources itself:
// HTTP files directly and git repositories by running git into a temporary
// kustomize-* directory. Reads inside such clone directories are allowed;
// they do not count as files of the repository and are not listed in
// Result.Files, and HTTP downloads are not subject to the byte limits.
//
// # Decryption
//
// Files the sops CLI encrypted to age recipients are decrypted as they are
// read, in both modes, when Options.Decryption holds identities: every
// .yaml, .yml and .json file that seal.IsSOPS recognises, whether a
// manifest, a kustomize patch or a generator input, so kustomize builds
// from plaintext. Without Options.Decryption such a file fails the render
// (ErrDecryption) instead of being applied as ciphertext; so does a file no
// identity opens or whose MAC does not match (tampering), naming the file
// and never a value. Objects that hold decrypted values are marked
// Object.Sensitive, for whatever shows them to mask their values: in plain
// mode the objects of decrypted files; in kustomize mode, whose output no
// longer says which file an object came from, every object of a decrypted
// document's kind whose name contains that document's name (kustomize
// adds prefixes, suffixes and hashes) and every object holding a string
// that contains a decrypted value of four bytes or more (replacements and
// generators copy values). The tracing errs towards marking.
//
// # Errors
//
// Errors start with "render:", fit on one line and name the culprit file,
// with a line number when one is known, e.g.
//
//	render: apps/web/deploy.yaml:12: yaml: mapping values are not allowed in this context
//
// They are *Error values; errors.Is matches the sentinel errors
// (ErrPathEscape, ErrTooLarge, ErrInvalidManifest, ErrDuplicateObject,
// ErrRemoteRefused, ErrPluginRefused, ErrDecryption).
package render
