package gitwrite

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"golang.org/x/crypto/ssh"

	"github.com/cruisegitops/cruise/internal/source"
	"github.com/cruisegitops/cruise/internal/source/gittest"
)

var bot = Signature{Name: "cruise-bot", Email: "bot@example.com"}

// replaceEdit changes old to new in every file under the path; the
// message names the files.
func replaceEdit(old, new string) Edit {
	return func(files []File) (map[string][]byte, string, error) {
		changed := map[string][]byte{}
		for _, f := range files {
			b, err := f.Read()
			if err != nil {
				return nil, "", err
			}
			if s := strings.ReplaceAll(string(b), old, new); s != string(b) {
				changed[f.Path] = []byte(s)
			}
		}
		return changed, "Update " + old + " to " + new, nil
	}
}

func TestUpdate(t *testing.T) {
	s := newServer(t, gittest.HTTPOptions{})
	s.repo.Commit("init", map[string]string{"apps/a.yaml": "image: app:1\n", "other/b.yaml": "image: app:1\n"})
	ctx := context.Background()

	res, err := Update(ctx, UpdateRequest{URL: s.url, Branch: "main", Path: "apps", Author: bot, Edit: replaceEdit("app:1", "app:2")})
	if err != nil {
		t.Fatal(err)
	}
	head := s.head(t)
	if res.NoOp || res.Commit != head.Hash.String() || len(res.Files) != 1 || res.Files[0] != "apps/a.yaml" {
		t.Fatalf("result %+v, head %s", res, head.Hash)
	}
	got := files(t, head)
	if got["apps/a.yaml"] != "image: app:2\n" || got["other/b.yaml"] != "image: app:1\n" {
		t.Fatalf("tree after update: %v", got)
	}
	if head.Author.Name != bot.Name || head.Message != "Update app:1 to app:2" {
		t.Fatalf("commit %+v", head)
	}

	// Nothing left to change: no commit.
	res, err = Update(ctx, UpdateRequest{URL: s.url, Branch: "main", Path: "apps", Author: bot, Edit: replaceEdit("app:1", "app:2")})
	if err != nil || !res.NoOp || s.head(t).Hash != head.Hash {
		t.Fatalf("second run: %+v, %v", res, err)
	}
}

func TestUpdateRetriesOnTopOfOthers(t *testing.T) {
	s := newServer(t, gittest.HTTPOptions{})
	s.repo.Commit("init", map[string]string{"apps/a.yaml": "image: app:1\n", "README": "x"})
	ctx := context.Background()
	req := UpdateRequest{URL: s.url, Branch: "main", Author: bot, Edit: replaceEdit("app:1", "app:2")}
	req.beforePush = func(attempt int) {
		if attempt == 0 {
			// Someone else pushes first, to another file.
			s.repo.Commit("human change", map[string]string{"apps/a.yaml": "image: app:1\n", "README": "human"})
		}
	}
	res, err := Update(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	got := files(t, s.head(t))
	if res.Attempts != 2 || got["README"] != "human" || got["apps/a.yaml"] != "image: app:2\n" {
		t.Fatalf("attempts %d, tree %v: the human's commit must stay and ours land on top", res.Attempts, got)
	}
}

// TestUpdateRacingAutomations runs two updates of one branch at once:
// both land, one on top of the other, nothing is lost.
func TestUpdateRacingAutomations(t *testing.T) {
	s := newServer(t, gittest.HTTPOptions{})
	s.repo.Commit("init", map[string]string{"a.yaml": "image: a:1\n", "b.yaml": "image: b:1\n"})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, pair := range [][2]string{{"a:1", "a:2"}, {"b:1", "b:2"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = Update(ctx, UpdateRequest{URL: s.url, Branch: "main", Author: bot, Edit: replaceEdit(pair[0], pair[1])})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	got := files(t, s.head(t))
	if got["a.yaml"] != "image: a:2\n" || got["b.yaml"] != "image: b:2\n" {
		t.Fatalf("tree %v: one update was lost", got)
	}
}

func TestUpdatePushBranch(t *testing.T) {
	s := newServer(t, gittest.HTTPOptions{})
	s.repo.Commit("init", map[string]string{"a.yaml": "image: a:1\n"})
	ctx := context.Background()
	res, err := Update(ctx, UpdateRequest{URL: s.url, Branch: "main", PushBranch: "updates/a-2", Author: bot, Edit: replaceEdit("a:1", "a:2")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", s.dir, "show", "updates/a-2:a.yaml").Output()
	if err != nil || string(out) != "image: a:2\n" || res.Branch != "updates/a-2" {
		t.Fatalf("push branch: %q %v", out, err)
	}
	if files(t, s.head(t))["a.yaml"] != "image: a:1\n" {
		t.Fatal("main changed")
	}
}

func TestUpdateRefuses(t *testing.T) {
	s := newServer(t, gittest.HTTPOptions{Username: "u", Password: "p"})
	s.repo.Commit("init", map[string]string{"a.yaml": "x"})
	ctx := context.Background()
	base := UpdateRequest{URL: s.url, Branch: "main", Author: bot, Auth: &source.Auth{Username: "u", Password: "p"}, Edit: replaceEdit("x", "y")}
	tests := []struct {
		name string
		mod  func(*UpdateRequest)
		want error
	}{
		{"bad branch", func(r *UpdateRequest) { r.Branch = "a..b" }, source.ErrInvalid},
		{"no branch", func(r *UpdateRequest) { r.Branch = "nope" }, source.ErrRefNotFound},
		{"no author", func(r *UpdateRequest) { r.Author = Signature{} }, source.ErrInvalid},
		{"wrong password", func(r *UpdateRequest) { r.Auth = &source.Auth{Username: "u", Password: "bad"} }, source.ErrAuth},
		{"path escapes", func(r *UpdateRequest) { r.Path = "../x" }, source.ErrInvalid},
		{"edit outside path", func(r *UpdateRequest) {
			r.Path = "apps"
			r.Edit = func([]File) (map[string][]byte, string, error) {
				return map[string][]byte{"a.yaml": []byte("y")}, "m", nil
			}
		}, source.ErrInvalid},
	}
	before := s.head(t).Hash
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := base
			tt.mod(&req)
			_, err := Update(ctx, req)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), "bad") && tt.name == "wrong password" {
				t.Fatalf("error shows the password: %v", err)
			}
		})
	}
	if s.head(t).Hash != before {
		t.Fatal("a refused update changed the branch")
	}
}

// TestUpdateSignedSSH signs with an SSH key and checks the signature with
// git itself (gpg.format=ssh, an allowed-signers file).
func TestUpdateSignedSSH(t *testing.T) {
	s := newServer(t, gittest.HTTPOptions{})
	s.repo.Commit("init", map[string]string{"a.yaml": "image: a:1\n"})
	key, pub := gittest.NewKey(t, "")
	signer, err := NewSigner(key, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Update(context.Background(), UpdateRequest{URL: s.url, Branch: "main", Author: bot, Signer: signer, Edit: replaceEdit("a:1", "a:2")})
	if err != nil {
		t.Fatal(err)
	}
	allowed := filepath.Join(t.TempDir(), "allowed")
	line := bot.Email + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))) + "\n"
	if err := os.WriteFile(allowed, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("git", "-C", s.dir, "-c", "gpg.format=ssh", "-c", "gpg.ssh.allowedSignersFile="+allowed, "verify-commit", res.Commit)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git verify-commit: %v\n%s", err, out)
	}
}

func TestNewSignerRefuses(t *testing.T) {
	enc, _ := gittest.NewKey(t, "secret")
	for name, tt := range map[string]struct{ key, pass string }{
		"garbage":        {"not a key", ""},
		"no passphrase":  {string(enc), ""},
		"bad passphrase": {string(enc), "wrong"},
		"pgp garbage":    {"-----BEGIN PGP PRIVATE KEY BLOCK-----\nxx\n-----END PGP PRIVATE KEY BLOCK-----\n", ""},
	} {
		if _, err := NewSigner([]byte(tt.key), []byte(tt.pass)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestUpdateSignedOpenPGP signs with an OpenPGP key and checks the
// signature with git and gpg.
func TestUpdateSignedOpenPGP(t *testing.T) {
	s := newServer(t, gittest.HTTPOptions{})
	s.repo.Commit("init", map[string]string{"a.yaml": "image: a:1\n"})
	ent, err := openpgp.NewEntity(bot.Name, "", bot.Email, nil)
	if err != nil {
		t.Fatal(err)
	}
	var priv, pub bytes.Buffer
	w, _ := armor.Encode(&priv, openpgp.PrivateKeyType, nil)
	if err := ent.SerializePrivate(w, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	w, _ = armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err := ent.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	signer, err := NewSigner(priv.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Update(context.Background(), UpdateRequest{URL: s.url, Branch: "main", Author: bot, Signer: signer, Edit: replaceEdit("a:1", "a:2")})
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	imp := exec.Command("gpg", "--batch", "--homedir", home, "--import")
	imp.Stdin = &pub
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("gpg --import: %v\n%s", err, out)
	}
	cmd := exec.Command("git", "-C", s.dir, "verify-commit", res.Commit)
	cmd.Env = append(os.Environ(), "GNUPGHOME="+home)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git verify-commit: %v\n%s", err, out)
	}
}
