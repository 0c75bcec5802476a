package sqlstore

import (
	"context"
	"time"

	"github.com/cruisegitops/cruise/oauth/store"
)

// RecordJTI stores key until expiresAt; store.ErrAlreadyUsed if an
// unexpired record exists. An expired record is taken over.
func (s *Store) RecordJTI(ctx context.Context, key string, expiresAt time.Time) error {
	res, err := s.exec(ctx, `INSERT INTO jtis (k, expires_at) VALUES (?, ?)
		ON CONFLICT (k) DO UPDATE SET expires_at = excluded.expires_at WHERE jtis.expires_at < ?`,
		key, ms(expiresAt), ms(time.Now()))
	return oneRow(res, err, store.ErrAlreadyUsed)
}

// HasJTI reports whether an unexpired record of key exists.
func (s *Store) HasJTI(ctx context.Context, key string) (bool, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM jtis WHERE k = ? AND expires_at >= ?`, key, ms(time.Now())).Scan(&n)
	return n > 0, err
}

// PutPending stores interaction state under key.
func (s *Store) PutPending(ctx context.Context, key string, value []byte, expiresAt time.Time) error {
	_, err := s.exec(ctx, `INSERT INTO pending (k, v, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (k) DO UPDATE SET v = excluded.v, expires_at = excluded.expires_at`, key, string(value), ms(expiresAt))
	return err
}

// GetPending returns the unexpired value under key.
func (s *Store) GetPending(ctx context.Context, key string, now time.Time) ([]byte, error) {
	var v string
	if err := s.queryRow(ctx, `SELECT v FROM pending WHERE k = ? AND expires_at > ?`, key, ms(now)).Scan(&v); err != nil {
		return nil, notFound(err)
	}
	return []byte(v), nil
}

// TakePending returns and deletes the unexpired value under key.
func (s *Store) TakePending(ctx context.Context, key string, now time.Time) ([]byte, error) {
	var v string
	if err := s.queryRow(ctx, `DELETE FROM pending WHERE k = ? AND expires_at > ? RETURNING v`, key, ms(now)).Scan(&v); err != nil {
		return nil, notFound(err)
	}
	return []byte(v), nil
}

// AddSigningKey stores a signing key.
func (s *Store) AddSigningKey(ctx context.Context, k store.SigningKey) error {
	_, err := s.exec(ctx, `INSERT INTO signing_keys (kid, alg, private_jwk, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		k.KID, k.Algorithm, string(k.PrivateJWK), ms(k.CreatedAt), ms(k.ExpiresAt))
	return err
}

// ListSigningKeys returns the unexpired keys, newest first.
func (s *Store) ListSigningKeys(ctx context.Context, now time.Time) ([]store.SigningKey, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT kid, alg, private_jwk, created_at, expires_at FROM signing_keys
		WHERE expires_at > ? ORDER BY created_at DESC, kid`), ms(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.SigningKey
	for rows.Next() {
		var k store.SigningKey
		var jwk string
		var created, exp int64
		if err := rows.Scan(&k.KID, &k.Algorithm, &jwk, &created, &exp); err != nil {
			return nil, err
		}
		k.PrivateJWK, k.CreatedAt, k.ExpiresAt = []byte(jwk), fromMS(created), fromMS(exp)
		out = append(out, k)
	}
	return out, rows.Err()
}

// DeleteExpired removes expired rows of every table. Refresh tokens go with
// their family's absolute expiry, so that a replayed old token is still
// recognised as a replay while its family lives.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	t := ms(now)
	var total int64
	for _, stmt := range []string{
		`DELETE FROM sessions WHERE expires_at <= ?`,
		// Codes stay ten minutes past expiry so that a late replay is
		// still recognised (and revokes its family).
		`DELETE FROM codes WHERE expires_at + 600000 <= ?`,
		`DELETE FROM refresh_tokens WHERE family_id IN (SELECT id FROM families WHERE expires_at <= ?)`,
		`DELETE FROM families WHERE expires_at <= ?`,
		`DELETE FROM device_codes WHERE expires_at <= ?`,
		`DELETE FROM jtis WHERE expires_at <= ?`,
		`DELETE FROM pending WHERE expires_at <= ?`,
		`DELETE FROM signing_keys WHERE expires_at <= ?`,
	} {
		res, err := s.exec(ctx, stmt, t)
		if err != nil {
			return total, err
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}
