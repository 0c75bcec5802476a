// Package sealfile reads the Secret manifests `cruise seal` seals and
// writes and edits the SealedSecret manifests it produces, with no
// cryptography and no cluster: internal/seal encrypts, this package lays
// the result out as YAML that diffs well in Git.
//
// The layout is fixed and sorted (one encryptedData key a line, keys in
// byte order), so sealing a Secret again, or merging a key into a file,
// changes only the lines of the keys that changed. File edits a
// SealedSecret in place: it rewrites the lines of the values that change
// and inserts or deletes whole lines, leaving every other byte of the file
// as it was, comments and other documents included. After editing it
// parses the result again and compares it with the intended document; a
// layout it cannot edit line by line (flow mappings, block scalars) is
// written out whole instead, and Bytes says so.
package sealfile
