// Package sealtest is test support for code that decrypts SOPS files: it
// runs the real sops CLI (bin/tools/sops, built by `make test`) and Debian's
// age-keygen, so that tests check what users' tools really write. It is
// imported by tests only.
package sealtest
