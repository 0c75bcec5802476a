package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"github.com/cruisegitops/cruise/oauth/store"
)

// Dialect names the database behind a Store.
type Dialect string

// The supported databases.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is a store.Store on a SQL database. Build it with Open.
type Store struct {
	db      *sql.DB
	dialect Dialect
	// stmts caches prepared statements by their text (a prepare costs as
	// much as a simple query on SQLite).
	stmts sync.Map // string -> *sql.Stmt
}

var _ store.Store = (*Store)(nil)

// Open connects to the database named by dsn (see the package doc) and
// migrates its schema.
func Open(ctx context.Context, dsn string) (*Store, error) {
	dialect, driver, source, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	if dialect == SQLite {
		// WAL lets readers proceed beside the single writer; the busy
		// timeout makes writers (this process or a CLI) queue instead of
		// failing.
		db.SetMaxOpenConns(8)
	} else {
		db.SetMaxOpenConns(8)
	}
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{db: db, dialect: dialect}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Dialect reports which database the store uses.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close closes the database.
func (s *Store) Close() error {
	s.stmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
	return s.db.Close()
}

func parseDSN(dsn string) (Dialect, string, string, error) {
	switch {
	case dsn == "":
		return "", "", "", errors.New("empty database DSN")
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return Postgres, "pgx", dsn, nil
	}
	path := strings.TrimPrefix(dsn, "sqlite:")
	path = strings.TrimPrefix(path, "//")
	var query url.Values
	if i := strings.IndexByte(path, '?'); i >= 0 {
		q, err := url.ParseQuery(path[i+1:])
		if err != nil {
			return "", "", "", fmt.Errorf("parse sqlite DSN options: %w", err)
		}
		query, path = q, path[:i]
	} else {
		query = url.Values{}
	}
	if path == "" {
		return "", "", "", errors.New("sqlite DSN names no file")
	}
	query.Add("_pragma", "busy_timeout(10000)")
	query.Add("_pragma", "journal_mode(WAL)")
	query.Add("_pragma", "synchronous(NORMAL)")
	query.Set("_txlock", "immediate")
	return SQLite, "sqlite", "file:" + path + "?" + query.Encode(), nil
}

// q returns the statement for the store's dialect.
func (s *Store) q(stmt string) string { return rebind(s.dialect, stmt) }

// prepared returns the cached prepared statement for stmt.
func (s *Store) prepared(ctx context.Context, stmt string) (*sql.Stmt, error) {
	if p, ok := s.stmts.Load(stmt); ok {
		return p.(*sql.Stmt), nil
	}
	p, err := s.db.PrepareContext(ctx, s.q(stmt))
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(stmt, p); loaded {
		p.Close()
		return prev.(*sql.Stmt), nil
	}
	return p, nil
}

func rebind(d Dialect, stmt string) string {
	if d != Postgres {
		return stmt
	}
	var b strings.Builder
	n := 0
	for _, r := range stmt {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *Store) exec(ctx context.Context, stmt string, args ...any) (sql.Result, error) {
	p, err := s.prepared(ctx, stmt)
	if err != nil {
		return nil, err
	}
	return p.ExecContext(ctx, args...)
}

// queryRow runs a prepared single-row query; a failed prepare surfaces
// from Scan.
func (s *Store) queryRow(ctx context.Context, stmt string, args ...any) *sql.Row {
	p, err := s.prepared(ctx, stmt)
	if err != nil {
		return s.db.QueryRowContext(ctx, s.q(stmt), args...)
	}
	return p.QueryRowContext(ctx, args...)
}

// inTx runs fn in a transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func encodeList(v []string) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func decodeList(s string) []string {
	var v []string
	if s == "" || json.Unmarshal([]byte(s), &v) != nil || len(v) == 0 {
		return nil
	}
	return v
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// oneRow maps "no row changed" to errNone.
func oneRow(res sql.Result, err error, errNone error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return errNone
	}
	return nil
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// isUniqueViolation reports a duplicate key in either database.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || // SQLite
		strings.Contains(msg, "SQLSTATE 23505") // PostgreSQL
}
