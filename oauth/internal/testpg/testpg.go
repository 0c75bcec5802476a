package testpg

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// Instance is a running private PostgreSQL server.
type Instance struct {
	dir     string
	bin     string
	port    int
	runAs   *user.User
	counter atomic.Int64
}

// binDir finds the PostgreSQL server binaries.
func binDir() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Strings(dirs)
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found in PATH or /usr/lib/postgresql/*/bin: run `make test-deps`")
}

// Start initialises and starts a server in a new temporary directory.
func Start(ctx context.Context) (*Instance, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "cruise-pg-")
	if err != nil {
		return nil, err
	}
	in := &Instance{dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root needs the unprivileged postgres user (run `make test-deps`): %w", err)
		}
		in.runAs = u
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := in.run(ctx, "initdb", "-D", in.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		in.port, err = freePort()
		if err == nil {
			err = in.run(ctx, "pg_ctl", "start", "-w", "-t", "60", "-D", in.data(), "-l", filepath.Join(dir, "log"),
				"-o", fmt.Sprintf("-h 127.0.0.1 -p %d -k %s -F -c synchronous_commit=off -c full_page_writes=off -c max_connections=300", in.port, dir))
		}
		if err == nil {
			return in, nil
		}
		if attempt == 2 {
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			os.RemoveAll(dir)
			return nil, fmt.Errorf("%w\n%s", err, log)
		}
	}
}

func (in *Instance) data() string { return filepath.Join(in.dir, "data") }

func (in *Instance) run(ctx context.Context, name string, args ...string) error {
	path := filepath.Join(in.bin, name)
	var cmd *exec.Cmd
	if in.runAs != nil {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", in.runAs.Username, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = in.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w\n%s", name, err, out.String())
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// DSN returns the connection string of database name.
func (in *Instance) DSN(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", in.port, name)
}

// CreateDatabase creates a fresh database and returns its DSN.
func (in *Instance) CreateDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("test_%d_%d", time.Now().UnixNano()%1e9, in.counter.Add(1))
	db, err := sql.Open("pgx", in.DSN("postgres"))
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return in.DSN(name), nil
}

// Stop stops the server and removes its directory.
func (in *Instance) Stop() error {
	err := in.run(context.Background(), "pg_ctl", "stop", "-m", "immediate", "-w", "-D", in.data())
	if rerr := os.RemoveAll(in.dir); err == nil {
		err = rerr
	}
	return err
}
