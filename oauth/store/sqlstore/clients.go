package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/cruisegitops/cruise/oauth/store"
)

const clientColumns = `id, name, public, secret_hash, jwks, redirect_uris, grant_types, scopes, created_at`

// CreateClient stores a new client; store.ErrExists if the ID is taken.
func (s *Store) CreateClient(ctx context.Context, c store.Client) error {
	_, err := s.exec(ctx, `INSERT INTO clients (`+clientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Name, boolInt(c.Public), c.SecretHash, c.JWKS, encodeList(c.RedirectURIs),
		encodeList(c.GrantTypes), encodeList(c.Scopes), ms(c.CreatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("client %q: %w", c.ID, store.ErrExists)
	}
	return err
}

type scanner interface{ Scan(dest ...any) error }

func scanClient(row scanner) (store.Client, error) {
	var c store.Client
	var public int
	var redirects, grants, scopes string
	var created int64
	if err := row.Scan(&c.ID, &c.Name, &public, &c.SecretHash, &c.JWKS, &redirects, &grants, &scopes, &created); err != nil {
		return store.Client{}, notFound(err)
	}
	c.Public = public != 0
	c.RedirectURIs, c.GrantTypes, c.Scopes = decodeList(redirects), decodeList(grants), decodeList(scopes)
	c.CreatedAt = fromMS(created)
	return c, nil
}

// GetClient returns the client or store.ErrNotFound.
func (s *Store) GetClient(ctx context.Context, clientID string) (store.Client, error) {
	return scanClient(s.queryRow(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = ?`, clientID))
}

// ListClients returns every client ordered by name.
func (s *Store) ListClients(ctx context.Context) ([]store.Client, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+clientColumns+` FROM clients ORDER BY name, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteClient removes the client and revokes its grant families.
func (s *Store) DeleteClient(ctx context.Context, clientID string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM clients WHERE id = ?`), clientID)
		if err := oneRow(res, err, store.ErrNotFound); err != nil {
			return err
		}
		for _, stmt := range []string{
			`DELETE FROM refresh_tokens WHERE family_id IN (SELECT id FROM families WHERE client_id = ?)`,
			`DELETE FROM families WHERE client_id = ?`,
			`DELETE FROM codes WHERE client_id = ?`,
			`DELETE FROM consents WHERE client_id = ?`,
			`DELETE FROM device_codes WHERE client_id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, s.q(stmt), clientID); err != nil {
				return err
			}
		}
		return nil
	})
}
