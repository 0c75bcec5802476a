package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/cruisegitops/cruise/oauth/store/sqlstore"
)

// EnvAuthDB names the environment variable that supplies --db to every
// `cruise auth` command.
const EnvAuthDB = "CRUISE_AUTH_DB"

func newAuthCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "Run and administer cruise's OAuth 2.1 authorization server",
		Long: `cruise auth runs the OAuth 2.1 authorization server that gives cruise's web UI,
API and CLI their tokens, and administers its clients, users and signing keys.

Every command takes the database as --db DSN (or $` + EnvAuthDB + `):
a SQLite file (sqlite:/var/lib/cruise/auth.db, or just a path) or PostgreSQL
(postgres://user@host/db). The admin commands work while the server runs.`,
	}
	cmd.AddCommand(newAuthServeCommand(), newAuthClientCommand(), newAuthUserCommand(), newAuthKeysCommand())
	return cmd
}

// authDBOptions is the --db flag every auth command shares.
type authDBOptions struct {
	DSN string
}

func (o *authDBOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.DSN, "db", "", "database DSN: a SQLite path (sqlite:FILE) or postgres://... (default $"+EnvAuthDB+")")
}

// open connects to the database, taking the DSN from the environment when
// the flag is empty.
func (o *authDBOptions) open(ctx context.Context) (*sqlstore.Store, error) {
	dsn := o.DSN
	if dsn == "" {
		dsn = os.Getenv(EnvAuthDB)
	}
	if dsn == "" {
		return nil, fail(2, errors.New("no database: pass --db DSN or set "+EnvAuthDB))
	}
	s, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open auth database: %w", err)
	}
	return s, nil
}
