package gitwrite

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/cruisegitops/cruise/internal/source"
	"github.com/cruisegitops/cruise/internal/source/gittest"
)

// server is a bare repository served over HTTP that accepts pushes.
type server struct {
	repo *gittest.Repo
	url  string
	dir  string
}

func newServer(t *testing.T, opts gittest.HTTPOptions) *server {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "repo.git")
	repo := gittest.NewRepo(t, dir, true)
	if out, err := exec.Command("git", "-C", dir, "config", "http.receivepack", "true").CombinedOutput(); err != nil {
		t.Fatalf("enable pushes: %v: %s", err, out)
	}
	srv := gittest.ServeHTTP(t, root, opts)
	return &server{repo: repo, url: srv.RepoURL("repo.git"), dir: dir}
}

// head returns the server's main commit.
func (s *server) head(t *testing.T) *object.Commit {
	t.Helper()
	r, err := git.PlainOpen(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := r.Reference(plumbing.NewBranchReferenceName("main"), true)
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.CommitObject(ref.Hash())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// files returns path -> content of c's tree.
func files(t *testing.T, c *object.Commit) map[string]string {
	t.Helper()
	it, err := c.Files()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	err = it.ForEach(func(f *object.File) error {
		s, err := f.Contents()
		out[f.Name] = s
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	c1Files = map[string]string{"app/a.yaml": "v1", "other/b.yaml": "v1", "app/gone.yaml": "old"}
	c2Files = map[string]string{"app/a.yaml": "v2", "app/new.yaml": "added", "other/b.yaml": "v2"}
)

var requester = Signature{Name: "Ada Lovelace", Email: "ada@example.com"}

func TestRevert(t *testing.T) {
	tests := []struct {
		name string
		// paths to roll back; target is c1 unless targetHead.
		paths      []string
		targetHead bool
		// race, when set, commits these files (the whole tree) to the
		// server just before the first push.
		race      map[string]string
		wantErr   error
		wantInErr string
		wantNoOp  bool
		// want is the server's main tree afterwards (nil: unchanged).
		want        map[string]string
		wantChanged []string
	}{
		{
			name:        "one app in a monorepo",
			paths:       []string{"app"},
			want:        map[string]string{"app/a.yaml": "v1", "app/gone.yaml": "old", "other/b.yaml": "v2"},
			wantChanged: []string{"app/a.yaml", "app/gone.yaml", "app/new.yaml"},
		},
		{
			name:        "single file",
			paths:       []string{"./app/a.yaml"},
			want:        map[string]string{"app/a.yaml": "v1", "app/new.yaml": "added", "other/b.yaml": "v2"},
			wantChanged: []string{"app/a.yaml"},
		},
		{
			name:        "whole tree",
			want:        c1Files,
			wantChanged: []string{"app/a.yaml", "app/gone.yaml", "app/new.yaml", "other/b.yaml"},
		},
		{
			name:       "already at target",
			paths:      []string{"app"},
			targetHead: true,
			wantNoOp:   true,
		},
		{
			name:      "concurrent push to restored path",
			paths:     []string{"app"},
			race:      map[string]string{"app/a.yaml": "v3", "app/new.yaml": "added", "other/b.yaml": "v2"},
			wantErr:   ErrConflict,
			wantInErr: "app/a.yaml",
		},
		{
			name:        "concurrent push elsewhere is retried",
			paths:       []string{"app"},
			race:        map[string]string{"app/a.yaml": "v2", "app/new.yaml": "added", "other/b.yaml": "v3"},
			want:        map[string]string{"app/a.yaml": "v1", "app/gone.yaml": "old", "other/b.yaml": "v3"},
			wantChanged: []string{"app/a.yaml", "app/gone.yaml", "app/new.yaml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, gittest.HTTPOptions{})
			c1 := srv.repo.Commit("c1", c1Files)
			c2 := srv.repo.Commit("c2", c2Files)
			target := c1
			if tt.targetHead {
				target = c2
			}
			req := Request{URL: srv.url, Branch: "main", Target: target, Paths: tt.paths, Author: requester}
			var raced string
			if tt.race != nil {
				req.beforePush = func(attempt int) {
					if attempt == 0 {
						raced = srv.repo.Commit("someone else", tt.race)
					}
				}
			}
			before := srv.head(t).Hash.String()

			res, err := Revert(context.Background(), req)

			after := srv.head(t)
			if tt.wantErr != nil {
				t.Log(err)
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantInErr) {
					t.Fatalf("err = %v, want %v naming %q", err, tt.wantErr, tt.wantInErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				if want := firstNonEmpty(raced, before); after.Hash.String() != want {
					t.Errorf("server head = %s, want %s (nothing pushed)", after.Hash, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Revert: %v", err)
			}
			if res.NoOp != tt.wantNoOp {
				t.Fatalf("NoOp = %v, want %v", res.NoOp, tt.wantNoOp)
			}
			if tt.wantNoOp {
				if after.Hash.String() != before || res.Commit != "" {
					t.Errorf("no-op pushed: head %s -> %s, result %+v", before, after.Hash, res)
				}
				return
			}
			if after.Hash.String() != res.Commit {
				t.Fatalf("server head = %s, want the rollback %s", after.Hash, res.Commit)
			}
			wantParent := firstNonEmpty(raced, before)
			if len(after.ParentHashes) != 1 || after.ParentHashes[0].String() != wantParent || res.Parent != wantParent {
				t.Errorf("parents = %v (result %s), want [%s]", after.ParentHashes, res.Parent, wantParent)
			}
			if got := files(t, after); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("tree = %v, want %v", got, tt.want)
			}
			if !reflect.DeepEqual(res.Changed, tt.wantChanged) {
				t.Errorf("Changed = %v, want %v", res.Changed, tt.wantChanged)
			}
			if after.Author.Name != requester.Name || after.Author.Email != requester.Email {
				t.Errorf("author = %v, want %v", after.Author, requester)
			}
			if after.Committer.Name != "cruise" {
				t.Errorf("committer = %v, want cruise", after.Committer)
			}
			for _, s := range []string{target[:7], target, requester.Email} {
				if !strings.Contains(after.Message, s) {
					t.Errorf("message %q does not name %q", after.Message, s)
				}
			}
		})
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func TestRevertNotAncestor(t *testing.T) {
	srv := newServer(t, gittest.HTTPOptions{})
	srv.repo.Commit("c1", c1Files)
	srv.repo.Commit("c2", c2Files)
	srv.repo.Branch("side", srv.head(t).Hash.String())
	// A commit only on another branch, and one that does not exist.
	other := newServer(t, gittest.HTTPOptions{})
	foreign := other.repo.Commit("elsewhere", map[string]string{"x": "y"})
	before := srv.head(t).Hash.String()

	for _, target := range []string{foreign, strings.Repeat("ab", 20)} {
		_, err := Revert(context.Background(), Request{URL: srv.url, Branch: "main", Target: target, Paths: []string{"app"}, Author: requester})
		if !errors.Is(err, ErrNotAncestor) || !strings.Contains(err.Error(), target) || !strings.Contains(err.Error(), before) {
			t.Errorf("target %s: err = %v, want ErrNotAncestor naming both SHAs", target, err)
		}
	}
	if got := srv.head(t).Hash.String(); got != before {
		t.Errorf("server head moved to %s", got)
	}
}

func TestRevertErrors(t *testing.T) {
	const password = "s3cret-p4ss"
	srv := newServer(t, gittest.HTTPOptions{Username: "bot", Password: password})
	c1 := srv.repo.Commit("c1", c1Files)
	srv.repo.Commit("c2", c2Files)
	base := Request{URL: srv.url, Branch: "main", Target: c1, Author: requester, Auth: &source.Auth{Username: "bot", Password: password}}

	tests := []struct {
		name    string
		edit    func(*Request)
		wantErr error
	}{
		{"wrong password", func(r *Request) { r.Auth = &source.Auth{Username: "bot", Password: password + "x"} }, source.ErrAuth},
		{"password in URL", func(r *Request) {
			r.Auth = nil
			r.URL = strings.Replace(srv.url, "http://", "http://bot:"+password+"x@", 1)
		}, source.ErrAuth},
		{"no credentials", func(r *Request) { r.Auth = nil }, source.ErrAuth},
		{"missing branch", func(r *Request) { r.Branch = "nope" }, source.ErrRefNotFound},
		{"short target", func(r *Request) { r.Target = c1[:7] }, source.ErrInvalid},
		{"no author", func(r *Request) { r.Author = Signature{} }, source.ErrInvalid},
		{"path escapes", func(r *Request) { r.Paths = []string{"../etc"} }, source.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := base
			tt.edit(&req)
			_, err := Revert(context.Background(), req)
			t.Log(err)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
	// The right credentials work.
	if _, err := Revert(context.Background(), base); err != nil {
		t.Fatalf("with valid credentials: %v", err)
	}
}

func TestRevertBase(t *testing.T) {
	tests := []struct {
		name      string
		later     map[string]string // committed after base (c2)
		wantErr   error
		wantInErr string
	}{
		{name: "later commit changed the restored path", later: map[string]string{"app/a.yaml": "v3", "app/new.yaml": "added", "other/b.yaml": "v2"},
			wantErr: ErrConflict, wantInErr: "app/a.yaml"},
		{name: "later commit elsewhere", later: map[string]string{"app/a.yaml": "v2", "app/new.yaml": "added", "other/b.yaml": "v3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, gittest.HTTPOptions{})
			c1 := srv.repo.Commit("c1", c1Files)
			c2 := srv.repo.Commit("c2", c2Files)
			c3 := srv.repo.Commit("c3", tt.later)

			res, err := Revert(context.Background(), Request{URL: srv.url, Branch: "main", Target: c1, Base: c2, Paths: []string{"app"}, Author: requester})

			head := srv.head(t).Hash.String()
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantInErr) {
					t.Fatalf("err = %v, want %v naming %q", err, tt.wantErr, tt.wantInErr)
				}
				if files := ConflictFiles(err); !slices.Contains(files, tt.wantInErr) {
					t.Errorf("ConflictFiles = %v, want %s in it", files, tt.wantInErr)
				}
				if head != c3 {
					t.Errorf("head = %s, want %s (nothing pushed)", head, c3)
				}
				return
			}
			if err != nil {
				t.Fatalf("Revert: %v", err)
			}
			if res.Parent != c3 || head != res.Commit {
				t.Errorf("result %+v, head %s: want a commit on %s", res, head, c3)
			}
		})
	}
}

// TestRevertLocalWorkingRepo pushes over the file transport into a
// non-bare repository whose checked-out branch is the target, as `cruise
// dev`'s example repository is (receive.denyCurrentBranch=updateInstead):
// the rollback lands in the branch and in the working tree.
func TestRevertLocalWorkingRepo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "work")
	repo := gittest.NewRepo(t, dir, false)
	c1 := repo.Commit("c1", c1Files)
	repo.Commit("c2", c2Files)
	for _, args := range [][]string{{"checkout", "-q", "-f", "main"}, {"config", "receive.denyCurrentBranch", "updateInstead"}} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	res, err := Revert(context.Background(), Request{URL: "file://" + dir, Branch: "main", Target: c1, Paths: []string{"app"}, Author: requester})
	if err != nil {
		t.Fatalf("Revert: %v", err)
	}
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil || strings.TrimSpace(string(out)) != res.Commit {
		t.Fatalf("HEAD = %s (%v), want %s", out, err, res.Commit)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "app", "a.yaml")); err != nil || string(b) != "v1" {
		t.Errorf("working tree app/a.yaml = %q (%v), want v1", b, err)
	}
	if out, _ := exec.Command("git", "-C", dir, "status", "--porcelain").Output(); len(out) != 0 {
		t.Errorf("working tree not clean after the push:\n%s", out)
	}
}
