// Package config holds cruise's Kubernetes install manifests as a
// kustomize base, and embeds them in the binary for `cruise install`.
//
// The directories are plain kustomizations; README.md describes them and
// the RBAC design. The Go files exist only to embed them: go:embed cannot
// reach up from internal/cli to the repository's config directory.
package config
