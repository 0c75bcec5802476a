package oauthclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Store reads and writes a credentials file. Changes are made under an
// exclusive lock of the file's directory (so that two processes
// refreshing at once do not both spend the same rotating refresh token)
// and written atomically: temporary file, chmod 0600, rename. Several
// Stores, in one process or many, may share a file.
type Store struct {
	path string
}

// OpenStore returns the store of the credentials file at path. Nothing is
// read or created before the first Load or Update.
func OpenStore(path string) *Store { return &Store{path: path} }

// Path is the file's path.
func (s *Store) Path() string { return s.path }

// Load reads the file; a missing file is an empty one. A file that group
// or others may read or write is refused: its tokens may have leaked, and
// reading it would hide that.
func (s *Store) Load() (*Credentials, error) {
	c := &Credentials{Servers: map[string]*Login{}}
	f, err := os.Open(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	} else if err != nil {
		return nil, fmt.Errorf("credentials file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("credentials file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("credentials file %s is not a regular file", s.path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("credentials file %s is accessible by group or others (mode %04o): its tokens may have leaked; run chmod 600 %s, or log out and in again",
			s.path, perm, s.path)
	}
	if err := json.NewDecoder(f).Decode(c); err != nil {
		return nil, fmt.Errorf("credentials file %s: %w", s.path, err)
	}
	if c.Servers == nil {
		c.Servers = map[string]*Login{}
	}
	return c, nil
}

// Update runs fn on the file's content under the lock and saves the
// result when fn reports a change.
func (s *Store) Update(fn func(c *Credentials) (changed bool, err error)) error {
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("credentials directory: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return err
	}
	defer unlock()
	c, err := s.Load()
	if err != nil {
		return err
	}
	changed, err := fn(c)
	if err != nil || !changed {
		return err
	}
	return s.save(c)
}

// Keep saves l as the login of server and makes server the current one.
// The login it replaces is revoked (best effort: its tokens expire
// anyway), so that no valid token lingers.
func (s *Store) Keep(ctx context.Context, server string, l *Login) error {
	var previous *Login
	err := s.Update(func(c *Credentials) (bool, error) {
		previous = c.Servers[server]
		c.Servers[server] = l
		c.Current = server
		return true, nil
	})
	if err != nil {
		return err
	}
	if previous != nil && previous.RefreshToken != "" && previous.RefreshToken != l.RefreshToken {
		_ = Revoke(ctx, previous)
	}
	return nil
}

// LogoutResult is what Logout did.
type LogoutResult struct {
	// Server is the server logged out of: the one named, else the
	// current one; "" when neither exists.
	Server string
	// Removed is the login deleted, nil when there was none.
	Removed *Login
	// LoggedIn lists, when no server was named, the servers logged in
	// to.
	LoggedIn []string
	// RevokeErr says why the login could not be revoked at its issuer;
	// it was deleted all the same, and its tokens stay valid until they
	// expire.
	RevokeErr error
}

// Logout revokes the login of server (the current one when server is "")
// at its issuer (RFC 7009) and deletes it, whether the revocation
// succeeded or not: the user asked to be logged out here. Not being
// logged in is no error.
func (s *Store) Logout(ctx context.Context, server string) (LogoutResult, error) {
	res := LogoutResult{Server: server}
	err := s.Update(func(c *Credentials) (bool, error) {
		if res.Server == "" {
			res.Server, res.LoggedIn = c.Current, c.LoggedInServers()
		}
		if res.Removed = c.Servers[res.Server]; res.Removed == nil {
			return false, nil
		}
		delete(c.Servers, res.Server)
		if c.Current == res.Server {
			c.Current = ""
		}
		return true, nil
	})
	// Revoked after the lock is released, as Keep does: the server's
	// answer may take a timeout, and other cruise processes wait on the
	// lock to refresh their tokens.
	if err == nil && res.Removed != nil {
		res.RevokeErr = Revoke(ctx, res.Removed)
	}
	return res, err
}

// save writes c atomically with mode 0600. The caller holds the lock.
func (s *Store) save(c *Credentials) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(s.path)
	tmp, err := os.CreateTemp(dir, ".credentials-*.tmp")
	if err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	done = true
	return nil
}

// lockDir takes an exclusive advisory lock (flock) of dir and returns its
// release.
func lockDir(dir string) (func(), error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("lock credentials directory: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock credentials directory %s: %w", dir, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
