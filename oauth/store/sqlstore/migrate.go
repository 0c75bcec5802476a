package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// migrations are applied in order, each once; append only. Column types are
// common to SQLite and PostgreSQL (times are BIGINT Unix milliseconds, 0
// meaning unset).
var migrations = []string{
	// 1: the initial schema.
	`
CREATE TABLE clients (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	public INTEGER NOT NULL,
	secret_hash TEXT NOT NULL,
	jwks TEXT NOT NULL,
	redirect_uris TEXT NOT NULL,
	grant_types TEXT NOT NULL,
	scopes TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE TABLE users (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	email TEXT NOT NULL,
	group_names TEXT NOT NULL,
	upstream TEXT,
	created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_upstream ON users (upstream);
CREATE TABLE sessions (
	hash TEXT PRIMARY KEY,
	user_id TEXT NOT NULL,
	auth_time BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE TABLE consents (
	user_id TEXT NOT NULL,
	client_id TEXT NOT NULL,
	scopes TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (user_id, client_id)
);
CREATE TABLE codes (
	hash TEXT PRIMARY KEY,
	client_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	redirect_uri TEXT NOT NULL,
	redirect_uri_sent INTEGER NOT NULL,
	scopes TEXT NOT NULL,
	code_challenge TEXT NOT NULL,
	nonce TEXT NOT NULL,
	dpop_jkt TEXT NOT NULL,
	family_id TEXT NOT NULL,
	auth_time BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE families (
	id TEXT PRIMARY KEY,
	client_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	scopes TEXT NOT NULL,
	dpop_jkt TEXT NOT NULL,
	auth_time BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	revoked_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX families_user_client ON families (user_id, client_id);
CREATE TABLE refresh_tokens (
	hash TEXT PRIMARY KEY,
	family_id TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE TABLE device_codes (
	hash TEXT PRIMARY KEY,
	user_code TEXT NOT NULL UNIQUE,
	client_id TEXT NOT NULL,
	scopes TEXT NOT NULL,
	status TEXT NOT NULL,
	user_id TEXT NOT NULL,
	auth_time BIGINT NOT NULL,
	interval_ms BIGINT NOT NULL,
	last_poll BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE TABLE jtis (
	k TEXT PRIMARY KEY,
	expires_at BIGINT NOT NULL
);
CREATE TABLE pending (
	k TEXT PRIMARY KEY,
	v TEXT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE TABLE signing_keys (
	kid TEXT PRIMARY KEY,
	alg TEXT NOT NULL,
	private_jwk TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
`,
}

// migrate brings the schema to the latest version. On PostgreSQL an
// advisory lock serialises replicas; on SQLite the immediate transaction
// does.
func (s *Store) migrate(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if s.dialect == Postgres {
		// An arbitrary constant naming "cruise oauth schema".
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7361041221)`); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(7361041221)`)
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for i, m := range migrations {
		version := i + 1
		err := func() error {
			tx, err := conn.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			var n int
			if err := tx.QueryRowContext(ctx, rebind(s.dialect, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if err := execScript(ctx, tx, m); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, rebind(s.dialect, `INSERT INTO schema_migrations (version) VALUES (?)`), version); err != nil {
				return err
			}
			return tx.Commit()
		}()
		if err != nil {
			return fmt.Errorf("migrate to schema version %d: %w", version, err)
		}
	}
	return nil
}

// execScript runs the statements of a migration one by one (the pgx driver
// runs several per Exec only without parameters, SQLite only the first).
func execScript(ctx context.Context, tx *sql.Tx, script string) error {
	for _, stmt := range splitStatements(script) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%w in %.60q", err, stmt)
		}
	}
	return nil
}

func splitStatements(script string) []string {
	var out []string
	for _, s := range strings.Split(script, ";") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
