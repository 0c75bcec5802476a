// Package sealkeys keeps the cluster's sealing keys in Kubernetes: the
// private keys in one Secret in cruise-system, the public keys in a
// ConfigMap beside it that every authenticated user may read. The
// controller, `cruise secrets` and `cruise server` all go through Store, so
// there is one format and one place.
//
// The Secret holds one data entry per key, named
// "<created, 20060102T150405Z>-<recipient suffix>.agekey" and laid out as
// age-keygen writes a key file, so `kubectl get secret … -o jsonpath` piped
// to `age -d -i -` works with no cruise at hand.
package sealkeys
