// Package keys manages the authorization server's signing keys: ES256 or
// EdDSA keys generated from crypto/rand, kept in a store.KeyStore so that
// replicas and the `cruise auth keys rotate` command share them, published
// as a JSON Web Key Set (RFC 7517 section 5, RFC 8414 "jwks_uri").
//
// The newest key signs; older keys stay in the key set until they expire,
// so tokens they signed verify to the end of their lifetime. A Manager
// re-reads the store periodically, which is how a rotation done by another
// process reaches a running server.
package keys
