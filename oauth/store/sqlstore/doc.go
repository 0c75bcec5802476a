// Package sqlstore implements store.Store on SQLite (modernc.org/sqlite,
// pure Go, the embedded default) and PostgreSQL (pgx), chosen by the DSN
// given to Open:
//
//	postgres://user@host/db?sslmode=...   PostgreSQL (also postgresql://)
//	sqlite:/var/lib/cruise/auth.db        SQLite file
//	/var/lib/cruise/auth.db               SQLite file (any other DSN)
//
// Open applies the schema migrations (under an advisory lock on PostgreSQL,
// so replicas starting together migrate once). Times are stored as Unix
// milliseconds, lists as JSON text, so that one set of statements serves
// both databases; placeholders are written "?" and rebound to "$n" for
// PostgreSQL.
//
// Each Store keeps a pool of at most eight connections (enough to keep two
// cores busy; a replica needs no more) and prepares each statement once.
//
// Single-use rules are enforced by conditional UPDATEs ("... WHERE used_at
// = 0") and unique keys, which both databases apply atomically: of two
// replicas redeeming the same code, exactly one updates the row.
package sqlstore
