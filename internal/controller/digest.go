package controller

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/cruisegitops/cruise/internal/render"
)

// renderDigest is "sha256:<hex>" over what a render produced: each object,
// in render order, as JSON (encoding/json writes map keys sorted, so the
// same object always gives the same bytes) followed by a newline. It is
// taken over the objects rather than the files so that edits that change
// no object (comments, formatting, a README beside the manifests) give the
// same digest, and two history entries with one digest deployed the same
// thing. The source file of each object is left out for the same reason;
// the order is kept, since it is the order of apply.
//
// An object holding values decrypted from SOPS files (render marks it
// Sensitive) enters the digest only as an HMAC keyed with secretKey:
// status is readable by anyone who may read the Application, and a plain
// hash of a short secret (a PIN, a word) could be brute-forced offline.
func renderDigest(objs []render.Object, secretKey []byte) (string, error) {
	h := sha256.New()
	for _, o := range objs {
		b, err := json.Marshal(o.Object)
		if err != nil {
			return "", fmt.Errorf("digest of %s (%s): %w", o.GetName(), o.Source, err)
		}
		if o.Sensitive {
			m := hmac.New(sha256.New, secretKey)
			m.Write(b)
			b = []byte(hex.EncodeToString(m.Sum(nil)))
		}
		h.Write(b)
		h.Write([]byte{'\n'})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
