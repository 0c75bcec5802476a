// Package examples embeds the example applications that `make dev` (cruise
// dev up --example) puts in a local Git repository and deploys.
package examples

import "embed"

// FS holds the examples, e.g. "guestbook/kustomization.yaml".
//
//go:embed guestbook
var FS embed.FS
