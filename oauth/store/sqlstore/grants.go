package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/cruisegitops/cruise/oauth/store"
)

// SaveConsent records the scopes a user granted a client, replacing the
// previous record.
func (s *Store) SaveConsent(ctx context.Context, c store.Consent) error {
	_, err := s.exec(ctx, `INSERT INTO consents (user_id, client_id, scopes, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, created_at = excluded.created_at`,
		c.UserID, c.ClientID, encodeList(c.Scopes), ms(c.CreatedAt))
	return err
}

func scanConsent(row scanner) (store.Consent, error) {
	var c store.Consent
	var scopes string
	var created int64
	if err := row.Scan(&c.UserID, &c.ClientID, &scopes, &created); err != nil {
		return store.Consent{}, notFound(err)
	}
	c.Scopes, c.CreatedAt = decodeList(scopes), fromMS(created)
	return c, nil
}

// GetConsent returns what userID granted clientID.
func (s *Store) GetConsent(ctx context.Context, userID, clientID string) (store.Consent, error) {
	return scanConsent(s.queryRow(ctx, `SELECT user_id, client_id, scopes, created_at FROM consents WHERE user_id = ? AND client_id = ?`, userID, clientID))
}

// ListConsents returns the user's consents.
func (s *Store) ListConsents(ctx context.Context, userID string) ([]store.Consent, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT user_id, client_id, scopes, created_at FROM consents WHERE user_id = ? ORDER BY client_id`), userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Consent
	for rows.Next() {
		c, err := scanConsent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// RevokeConsent deletes the consent and revokes the user's grant families
// of that client.
func (s *Store) RevokeConsent(ctx context.Context, userID, clientID string, now time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM consents WHERE user_id = ? AND client_id = ?`), userID, clientID)
		if err := oneRow(res, err, store.ErrNotFound); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE families SET revoked_at = ? WHERE user_id = ? AND client_id = ? AND revoked_at = 0`), ms(now), userID, clientID)
		return err
	})
}

const codeColumns = `hash, client_id, user_id, redirect_uri, redirect_uri_sent, scopes, code_challenge, nonce, dpop_jkt, family_id, auth_time, created_at, expires_at, used_at`

// CreateCode stores an authorization code.
func (s *Store) CreateCode(ctx context.Context, c store.AuthCode) error {
	_, err := s.exec(ctx, `INSERT INTO codes (`+codeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Hash, c.ClientID, c.UserID, c.RedirectURI, boolInt(c.RedirectURISent), encodeList(c.Scopes), c.CodeChallenge,
		c.Nonce, c.DPoPJKT, c.FamilyID, ms(c.AuthTime), ms(c.CreatedAt), ms(c.ExpiresAt), ms(c.UsedAt))
	return err
}

// GetCode returns the code, used or not.
func (s *Store) GetCode(ctx context.Context, hash string) (store.AuthCode, error) {
	var c store.AuthCode
	var sent int
	var scopes string
	var auth, created, exp, used int64
	err := s.queryRow(ctx, `SELECT `+codeColumns+` FROM codes WHERE hash = ?`, hash).Scan(
		&c.Hash, &c.ClientID, &c.UserID, &c.RedirectURI, &sent, &scopes, &c.CodeChallenge, &c.Nonce,
		&c.DPoPJKT, &c.FamilyID, &auth, &created, &exp, &used)
	if err != nil {
		return store.AuthCode{}, notFound(err)
	}
	c.RedirectURISent, c.Scopes = sent != 0, decodeList(scopes)
	c.AuthTime, c.CreatedAt, c.ExpiresAt, c.UsedAt = fromMS(auth), fromMS(created), fromMS(exp), fromMS(used)
	return c, nil
}

// ConsumeCode marks the code used; store.ErrAlreadyUsed if it was.
func (s *Store) ConsumeCode(ctx context.Context, hash string, now time.Time) error {
	res, err := s.exec(ctx, `UPDATE codes SET used_at = ? WHERE hash = ? AND used_at = 0`, ms(now), hash)
	return oneRow(res, err, store.ErrAlreadyUsed)
}

const familyColumns = `id, client_id, user_id, scopes, dpop_jkt, auth_time, created_at, expires_at, revoked_at`

func scanFamily(row scanner, extra ...any) (store.Family, error) {
	var f store.Family
	var scopes string
	var auth, created, exp, revoked int64
	dest := append([]any{&f.ID, &f.ClientID, &f.UserID, &scopes, &f.DPoPJKT, &auth, &created, &exp, &revoked}, extra...)
	if err := row.Scan(dest...); err != nil {
		return store.Family{}, notFound(err)
	}
	f.Scopes = decodeList(scopes)
	f.AuthTime, f.CreatedAt, f.ExpiresAt, f.RevokedAt = fromMS(auth), fromMS(created), fromMS(exp), fromMS(revoked)
	return f, nil
}

// CreateFamily stores a grant family and its first refresh token.
func (s *Store) CreateFamily(ctx context.Context, f store.Family, first *store.RefreshToken) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		// DO NOTHING: a concurrent replay of the code may have revoked the
		// family first, leaving a revoked tombstone that must stay.
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO families (`+familyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`),
			f.ID, f.ClientID, f.UserID, encodeList(f.Scopes), f.DPoPJKT, ms(f.AuthTime), ms(f.CreatedAt), ms(f.ExpiresAt), ms(f.RevokedAt))
		if err != nil || first == nil {
			return err
		}
		return s.insertRefresh(ctx, tx, *first)
	})
}

func (s *Store) insertRefresh(ctx context.Context, tx *sql.Tx, t store.RefreshToken) error {
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO refresh_tokens (hash, family_id, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?)`),
		t.Hash, t.FamilyID, ms(t.CreatedAt), ms(t.ExpiresAt), ms(t.UsedAt))
	return err
}

// GetFamily returns a grant family, revoked or not.
func (s *Store) GetFamily(ctx context.Context, familyID string) (store.Family, error) {
	return scanFamily(s.queryRow(ctx, `SELECT `+familyColumns+` FROM families WHERE id = ?`, familyID))
}

// GetRefreshToken returns the token and its family.
func (s *Store) GetRefreshToken(ctx context.Context, hash string) (store.RefreshToken, store.Family, error) {
	var t store.RefreshToken
	var created, exp, used int64
	f, err := scanFamily(s.queryRow(ctx, `SELECT f.id, f.client_id, f.user_id, f.scopes, f.dpop_jkt, f.auth_time, f.created_at, f.expires_at, f.revoked_at,
		r.hash, r.created_at, r.expires_at, r.used_at
		FROM refresh_tokens r JOIN families f ON f.id = r.family_id WHERE r.hash = ?`, hash), &t.Hash, &created, &exp, &used)
	if err != nil {
		return store.RefreshToken{}, store.Family{}, err
	}
	t.FamilyID, t.CreatedAt, t.ExpiresAt, t.UsedAt = f.ID, fromMS(created), fromMS(exp), fromMS(used)
	return t, f, nil
}

// RotateRefreshToken marks oldHash used and stores next, atomically; a
// second use of oldHash revokes the family and returns
// store.ErrAlreadyUsed.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash string, next store.RefreshToken, now time.Time) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE refresh_tokens SET used_at = ? WHERE hash = ? AND used_at = 0`), ms(now), oldHash)
		if err := oneRow(res, err, store.ErrAlreadyUsed); err != nil {
			return err
		}
		var revoked int64
		if err := tx.QueryRowContext(ctx, s.q(`SELECT revoked_at FROM families WHERE id = ?`), next.FamilyID).Scan(&revoked); err != nil {
			return notFound(err)
		}
		if revoked != 0 {
			return store.ErrAlreadyUsed
		}
		return s.insertRefresh(ctx, tx, next)
	})
	if errors.Is(err, store.ErrAlreadyUsed) {
		if rerr := s.RevokeFamily(ctx, next.FamilyID, now); rerr != nil {
			return errors.Join(err, rerr)
		}
	}
	return err
}

// RevokeFamily revokes a grant family: its refresh tokens stop working and
// its access tokens introspect as inactive. Revoking a family not yet
// created leaves a revoked tombstone (kept a day), so that a code replay
// racing the first redemption still revokes what that redemption issues.
func (s *Store) RevokeFamily(ctx context.Context, familyID string, now time.Time) error {
	_, err := s.exec(ctx, `INSERT INTO families (`+familyColumns+`) VALUES (?, '', '', '[]', '', 0, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET revoked_at = excluded.revoked_at WHERE families.revoked_at = 0`,
		familyID, ms(now), ms(now.Add(24*time.Hour)), ms(now))
	return err
}
