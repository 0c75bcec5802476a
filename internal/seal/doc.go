// Package seal is cruise's sealed-secrets cryptography, with no Kubernetes
// imports: the envelope a sealed value carries (its scope, namespace, name
// and key encrypted and authenticated with the value), the cluster's key
// ring, age recipient files, and a reader of SOPS files encrypted to age
// recipients.
//
// Every value is one age v1 file (filippo.io/age, X25519) whose plaintext
// is a JSON envelope. Because the scope and the target travel inside the
// authenticated ciphertext, nothing a person can edit without the key
// (labels, annotations, the template, where the SealedSecret is applied)
// can make a value decrypt somewhere else: Open checks the envelope against
// where it is being unsealed. Sealed Secrets put the scope in annotations
// and paid for it (CVE-2026-22728); this design leaves no such field.
//
// Inputs are bounded before any work: a sealed value may hold at most
// MaxValueSize bytes of plaintext, its age header at most MaxStanzas
// recipient stanzas, so one hostile value cannot make the controller spend
// more than a few milliseconds.
//
// # SOPS
//
// DecryptSOPS reads the YAML and JSON files the sops CLI encrypts to age
// recipients (Flux's convention for keeping Secrets in Git), for render to
// decrypt at render time. cruise reads the format itself instead of
// importing github.com/getsops/sops/v3, whose decrypt package links a
// client for every key service sops supports (AWS, GCP, Azure, Vault,
// HuaweiCloud, PGP). Measured on this code base (go1.26.8, -trimpath,
// December 2026), a blank import of sops/v3/decrypt grows bin/cruise from
// 126.6 MB to 188.3 MB (+61.7 MB; stripped, 90.1 to 133.5 MB) and its
// linked modules from 98 to 202. This reader, 1,500 lines with comments
// over filippo.io/age, which sealing links anyway, grows it to 127.2 MB
// and 100 modules (filippo.io/age and filippo.io/hpke).
//
// The reader follows sops v3.13: the values chosen by the file's one rule
// (key suffix, key regex or comment regex), AES-256-GCM with the key path
// as additional data, and the MAC, a SHA-512 over the values in sops's
// walking order, encrypted with the lastmodified time as additional data.
// It always verifies the MAC, and it refuses what it does not implement (a
// data key split over several key groups with Shamir's scheme) rather than
// guessing. Other kinds of keys (PGP, KMS…) beside the age ones are
// ignored. Inputs are bounded (MaxSOPSSize, nesting depth, values after
// YAML aliases are expanded). The MAC is sops's: it covers the values and
// their order, not the keys of unencrypted values, and with
// mac_only_encrypted not the unencrypted values either. Tests check the
// reader against files the real sops CLI writes.
package seal
