package source

import (
	"path/filepath"
	"testing"

	"github.com/cruisegitops/cruise/internal/source/gittest"
)

// transportCase serves the standard history one way and says how to reach
// it.
type transportCase struct {
	name  string
	setup func(t *testing.T) (url string, auth *Auth, h history)
}

func transports() []transportCase {
	return []transportCase{
		{"local path, work tree", func(t *testing.T) (string, *Auth, history) {
			dir := filepath.Join(t.TempDir(), "repo")
			return dir, nil, newHistory(t, dir, false)
		}},
		{"file URL, bare", func(t *testing.T) (string, *Auth, history) {
			dir := filepath.Join(t.TempDir(), "repo.git")
			return "file://" + dir, nil, newHistory(t, dir, true)
		}},
		{"http anonymous", func(t *testing.T) (string, *Auth, history) {
			root := t.TempDir()
			h := newHistory(t, filepath.Join(root, "repo.git"), true)
			return gittest.ServeHTTP(t, root, gittest.HTTPOptions{}).RepoURL("repo.git"), nil, h
		}},
		{"ssh key", func(t *testing.T) (string, *Auth, history) {
			root := t.TempDir()
			h := newHistory(t, filepath.Join(root, "repo.git"), true)
			key, pub := gittest.NewKey(t, "")
			srv := gittest.ServeSSH(t, root, pub)
			return srv.RepoURL("repo.git"), &Auth{SSHPrivateKey: key, KnownHosts: srv.KnownHosts()}, h
		}},
	}
}

func TestFetchRefs(t *testing.T) {
	for _, tc := range transports() {
		t.Run(tc.name, func(t *testing.T) {
			url, auth, h := tc.setup(t)
			f := newFetcher(t, Options{})
			refs := []struct {
				name         string
				ref          string
				wantCommit   string
				wantRevision string
				wantVersion  string
			}{
				{"default HEAD", "", h.c4, "main@sha1:" + h.c4, "v4"},
				{"branch", "branch:dev", h.c2, "dev@sha1:" + h.c2, "v2"},
				{"bare branch name", "dev", h.c2, "dev@sha1:" + h.c2, "v2"},
				{"lightweight tag", "tag:v1.0.0", h.c1, "v1.0.0@sha1:" + h.c1, "v1"},
				{"annotated tag", "tag:v1.2.0", h.c3, "v1.2.0@sha1:" + h.c3, "v3"},
				{"bare tag name", "latest", h.c4, "latest@sha1:" + h.c4, "v4"},
				{"semver highest wins, pre-release skipped", "semver:>=1.0.0 <2.0.0", h.c3, "v1.2.0@sha1:" + h.c3, "v3"},
				{"semver tag without v", "semver:~1.1", h.c2, "1.1.0@sha1:" + h.c2, "v2"},
				{"commit", "commit:" + h.c1, h.c1, "sha1:" + h.c1, "v1"},
				{"bare commit", h.c2, h.c2, "sha1:" + h.c2, "v2"},
			}
			for _, rc := range refs {
				t.Run(rc.name, func(t *testing.T) {
					ref, err := ParseRef(rc.ref)
					if err != nil {
						t.Fatal(err)
					}
					a := mustFetch(t, f, Request{URL: url, Ref: ref, Auth: auth})
					if a.Commit != rc.wantCommit || a.Revision != rc.wantRevision {
						t.Errorf("got commit %s revision %s, want %s %s", a.Commit, a.Revision, rc.wantCommit, rc.wantRevision)
					}
					if got, want := readFile(t, a.Dir, "app/config.yaml"), "version: "+rc.wantVersion+"\n"; got != want {
						t.Errorf("checkout has config %q, want %q", got, want)
					}
					if a.URL != url {
						t.Errorf("URL = %q, want %q", a.URL, url)
					}
				})
			}

			t.Run("commit metadata", func(t *testing.T) {
				a := mustFetch(t, f, Request{URL: url, Ref: Ref{Commit: h.c2}, Auth: auth})
				if a.Message != "release v2" || a.Author != "Test Author <author@example.com>" || a.Time.IsZero() {
					t.Errorf("got message %q author %q time %v", a.Message, a.Author, a.Time)
				}
			})

			missing := []struct {
				name string
				ref  Ref
				msg  string
			}{
				{"branch", Ref{Branch: "nope"}, `git: ref "branch:nope" not found in ` + url},
				{"tag", Ref{Tag: "v9.9.9"}, `git: ref "tag:v9.9.9" not found in ` + url},
				{"bare name", Ref{Name: "nope"}, `git: ref "nope" not found in ` + url},
				{"semver", Ref{SemVer: ">=3.0.0"}, `git: no tag matches semver ">=3.0.0" in ` + url},
				{"commit", Ref{Commit: "0123456789abcdef0123456789abcdef01234567"}, `git: ref "commit:0123456789abcdef0123456789abcdef01234567" not found in ` + url},
			}
			for _, mc := range missing {
				t.Run("missing "+mc.name, func(t *testing.T) {
					_, err := f.Fetch(t.Context(), Request{URL: url, Ref: mc.ref, Auth: auth})
					wantErr(t, err, ErrRefNotFound, mc.msg)
				})
			}
		})
	}
}

func TestFetchAmbiguousName(t *testing.T) {
	dir := t.TempDir()
	r := gittest.NewRepo(t, dir, true)
	c := r.Commit("one", map[string]string{"a": "a"})
	r.Tag("main", c)
	f := newFetcher(t, Options{})
	_, err := f.Fetch(t.Context(), Request{URL: dir, Ref: Ref{Name: "main"}})
	wantErr(t, err, ErrInvalid, `"main" is both a branch and a tag`)
	a := mustFetch(t, f, Request{URL: dir, Ref: Ref{Tag: "main"}})
	if a.Revision != "main@sha1:"+c {
		t.Errorf("Revision = %s", a.Revision)
	}
}

func TestFetchNotARepository(t *testing.T) {
	dir := t.TempDir()
	if !IsLocalDir(dir) {
		t.Fatalf("IsLocalDir(%s) = false for a plain directory", dir)
	}
	f := newFetcher(t, Options{})
	_, err := f.Fetch(t.Context(), Request{URL: dir})
	wantErr(t, err, ErrRepoNotFound, "is not a Git repository")
}
