// Package image is cruise's image automation logic with no Kubernetes
// imports: listing a registry's tags (go-containerregistry), choosing one
// by policy, and rewriting setter markers in YAML without touching any
// other byte.
package image
