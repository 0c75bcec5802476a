// Package store defines what the authorization server keeps between
// requests: clients, users, sessions, consents, authorization codes,
// refresh-token families, device codes, replay caches and signing keys.
//
// The interfaces are small and split by concern so that a consumer can ask
// for only what it uses. Every operation that enforces a protocol rule of
// "exactly once" (redeeming a code, rotating a refresh token, consuming an
// approved device code, recording a JWT ID) is a single atomic operation of
// the implementation, so that several replicas sharing one database cannot
// both succeed. The sqlstore subpackage implements them on SQLite and
// PostgreSQL.
//
// Secrets never reach the store in clear: codes, refresh tokens, device
// codes, session IDs and client secrets are stored as SHA-256 hashes (see
// HashToken), passwords as argon2id hashes.
package store
