package sqlstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cruisegitops/cruise/oauth/internal/testpg"
)

// pg is the package's private PostgreSQL server, started by TestMain.
var pg *testpg.Instance

func TestMain(m *testing.M) {
	var err error
	pg, err = testpg.Start(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "start PostgreSQL:", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := pg.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop PostgreSQL:", err)
	}
	os.Exit(code)
}

// forEachBackend runs fn once per database, each on a fresh store.
func forEachBackend(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Helper()
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			fn(t, openTestStore(t, name))
		})
	}
}

func openTestStore(t *testing.T, backend string) *Store {
	t.Helper()
	ctx := context.Background()
	var dsn string
	switch backend {
	case "sqlite":
		dsn = "sqlite:" + filepath.Join(t.TempDir(), "auth.db")
	case "postgres":
		var err error
		if dsn, err = pg.CreateDatabase(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open %s: %v", backend, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
