package config

import "embed"

// FS holds the kustomizations below this directory, with their paths
// relative to it ("default/kustomization.yaml", "crd/bases/...").
// `cruise install` renders default (or multi-tenant) from a copy on disk.
//
//go:embed crd rbac manager cluster-admin default multi-tenant server
var FS embed.FS
