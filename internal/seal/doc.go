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
package seal
