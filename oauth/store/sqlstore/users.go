package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cruisegitops/cruise/oauth/store"
)

const userColumns = `id, name, password_hash, email, group_names, upstream, created_at`

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// CreateUser stores a new user; store.ErrExists if the name is taken.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	_, err := s.exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Name, u.PasswordHash, u.Email, encodeList(u.Groups), nullString(u.Upstream), ms(u.CreatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("user %q: %w", u.Name, store.ErrExists)
	}
	return err
}

func scanUser(row scanner) (store.User, error) {
	var u store.User
	var groups string
	var upstream sql.NullString
	var created int64
	if err := row.Scan(&u.ID, &u.Name, &u.PasswordHash, &u.Email, &groups, &upstream, &created); err != nil {
		return store.User{}, notFound(err)
	}
	u.Groups, u.Upstream, u.CreatedAt = decodeList(groups), upstream.String, fromMS(created)
	return u, nil
}

// UpsertUpstreamUser creates the account of an upstream identity or
// refreshes its email and groups, keeping its ID.
func (s *Store) UpsertUpstreamUser(ctx context.Context, u store.User) (store.User, error) {
	if u.Upstream == "" {
		return store.User{}, errors.New("upsert upstream user: no upstream identity")
	}
	var out store.User
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		existing, err := scanUser(tx.QueryRowContext(ctx, s.q(`SELECT `+userColumns+` FROM users WHERE upstream = ?`), u.Upstream))
		switch {
		case err == nil:
			existing.Email, existing.Groups = u.Email, u.Groups
			_, err = tx.ExecContext(ctx, s.q(`UPDATE users SET email = ?, group_names = ? WHERE id = ?`),
				existing.Email, encodeList(existing.Groups), existing.ID)
			out = existing
			return err
		case errors.Is(err, store.ErrNotFound):
			_, err = tx.ExecContext(ctx, s.q(`INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`),
				u.ID, u.Name, "", u.Email, encodeList(u.Groups), u.Upstream, ms(u.CreatedAt))
			if isUniqueViolation(err) {
				return fmt.Errorf("user %q: %w", u.Name, store.ErrExists)
			}
			out = u
			return err
		default:
			return err
		}
	})
	return out, err
}

// GetUser returns the user with that ID.
func (s *Store) GetUser(ctx context.Context, userID string) (store.User, error) {
	return scanUser(s.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, userID))
}

// GetUserByName returns the user with that login name.
func (s *Store) GetUserByName(ctx context.Context, name string) (store.User, error) {
	return scanUser(s.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE name = ?`, name))
}

// DeleteUserByName removes the user, their sessions and consents, and
// revokes their grant families.
func (s *Store) DeleteUserByName(ctx context.Context, name string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var id string
		if err := tx.QueryRowContext(ctx, s.q(`SELECT id FROM users WHERE name = ?`), name).Scan(&id); err != nil {
			return notFound(err)
		}
		for _, stmt := range []string{
			`DELETE FROM users WHERE id = ?`,
			`DELETE FROM sessions WHERE user_id = ?`,
			`DELETE FROM consents WHERE user_id = ?`,
			`DELETE FROM codes WHERE user_id = ?`,
			`DELETE FROM refresh_tokens WHERE family_id IN (SELECT id FROM families WHERE user_id = ?)`,
			`DELETE FROM families WHERE user_id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, s.q(stmt), id); err != nil {
				return err
			}
		}
		return nil
	})
}

// CreateSession stores a browser session.
func (s *Store) CreateSession(ctx context.Context, ss store.Session) error {
	_, err := s.exec(ctx, `INSERT INTO sessions (hash, user_id, auth_time, expires_at) VALUES (?, ?, ?, ?)`,
		ss.Hash, ss.UserID, ms(ss.AuthTime), ms(ss.ExpiresAt))
	return err
}

// GetSession returns an unexpired session.
func (s *Store) GetSession(ctx context.Context, hash string, now time.Time) (store.Session, error) {
	var ss store.Session
	var auth, exp int64
	err := s.queryRow(ctx, `SELECT hash, user_id, auth_time, expires_at FROM sessions WHERE hash = ? AND expires_at > ?`, hash, ms(now)).
		Scan(&ss.Hash, &ss.UserID, &auth, &exp)
	if err != nil {
		return store.Session{}, notFound(err)
	}
	ss.AuthTime, ss.ExpiresAt = fromMS(auth), fromMS(exp)
	return ss, nil
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	_, err := s.exec(ctx, `DELETE FROM sessions WHERE hash = ?`, hash)
	return err
}
