package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// gitTypes are the commit status types with the state each posts for a
// success and a failure, and the JSON key of the context.
var gitTypes = []struct {
	httpType
	success, failure, contextKey string
}{
	{httpTypes[5], "success", "failure", "context"},
	{httpTypes[6], "success", "failed", "name"},
	{httpTypes[7], "success", "failure", "context"},
}

// TestCommitStatusPayloads: Synced and Recovered post success, Failed
// and HealthDegraded a failure, on the event's commit, under the context
// cruise/<ns>/<name>, linking to cruise server; other events post nothing.
func TestCommitStatusPayloads(t *testing.T) {
	for _, g := range gitTypes {
		for _, c := range []struct {
			typ   EventType
			state string // "" when nothing is posted
		}{
			{Synced, g.success}, {Recovered, g.success},
			{Failed, g.failure}, {HealthDegraded, g.failure},
			{DriftReverted, ""}, {ImageUpdated, ""}, {RolledBack, ""}, {Digest, ""},
		} {
			t.Run(g.typ+"/"+string(c.typ), func(t *testing.T) {
				s := newTLSSink(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
				if err := g.sender(t, g.config(s)).Send(context.Background(), withEvent(sampleFailedMessage(), c.typ)); err != nil {
					t.Fatalf("Send: %v", err)
				}
				reqs := s.requests()
				if c.state == "" {
					if len(reqs) != 0 {
						t.Fatalf("%s posted %d statuses", c.typ, len(reqs))
					}
					return
				}
				if len(reqs) != 1 {
					t.Fatalf("%d requests, want 1", len(reqs))
				}
				if reqs[0].URI != g.path {
					t.Errorf("posted to %s, want %s", reqs[0].URI, g.path)
				}
				p := reqs[0].JSON(t)
				want := map[string]any{
					"state":       c.state,
					g.contextKey:  "cruise/team-a/web",
					"target_url":  sampleFailedMessage().Event.URL,
					"description": "team-a/web failed: BuildFailed",
				}
				for k, v := range want {
					if p[k] != v {
						t.Errorf("%s = %v, want %v", k, p[k], v)
					}
				}
				if len(p) != len(want) {
					t.Errorf("payload %v has keys beyond %v", p, want)
				}
			})
		}
	}
}

// TestCommitStatusCommit: the commit comes from Event.Commit, else from
// the revision; an event without one is a final error; a long subject is
// cut to the host's description limit.
func TestCommitStatusCommit(t *testing.T) {
	const other = "fedcba9876543210fedcba9876543210fedcba98"
	sha256Hex := strings.Repeat("ab", 32)
	cases := []struct {
		name     string
		commit   *Commit
		revision string
		want     string
	}{
		{"commit wins", &Commit{SHA: other}, "main@sha1:" + testSHA, other},
		{"from revision", nil, "main@sha1:" + testSHA, testSHA},
		{"uppercase", nil, "main@sha1:" + strings.ToUpper(testSHA), testSHA},
		{"sha256 repository", nil, "main@sha256:" + sha256Hex, sha256Hex},
		{"ref with @", nil, "refs/tags/v1@x@sha1:" + testSHA, testSHA},
		{"bare sha", nil, testSHA, testSHA},
		{"short sha", nil, "main@sha1:0123456", ""},
		{"no revision", nil, "", ""},
		{"not hex", &Commit{SHA: "main"}, "main", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := sampleFailedMessage()
			m.Event.Commit, m.Event.Revision = c.commit, c.revision
			st, ok, err := commitStatusOf(m, githubDescLimit)
			if c.want == "" {
				if err == nil || ok {
					t.Fatalf("want an error, got %+v", st)
				}
				if !strings.Contains(err.Error(), "Application/team-a/web") || errors.Is(err, ErrRetryable) {
					t.Errorf("want a final error naming the object, got %v", err)
				}
				return
			}
			if err != nil || !ok || st.sha != c.want {
				t.Errorf("sha %q, %v, %v; want %q", st.sha, ok, err, c.want)
			}
		})
	}
	t.Run("description cut", func(t *testing.T) {
		m := sampleFailedMessage()
		m.Subject = "[cruise] " + strings.Repeat("é", 300)
		for _, limit := range []int{githubDescLimit, gitlabDescLimit} {
			st, _, _ := commitStatusOf(m, limit)
			if n := utf8.RuneCountInString(st.description); n != limit || !strings.HasSuffix(st.description, "…") {
				t.Errorf("description of %d characters, want %d", n, limit)
			}
		}
	})
	t.Run("no subject", func(t *testing.T) {
		m := sampleFailedMessage()
		m.Subject = ""
		if st, _, _ := commitStatusOf(m, githubDescLimit); st.description != "Failed BuildFailed" {
			t.Errorf("description %q", st.description)
		}
	})
}

// TestGitAddresses: where the API and the repository are found in an
// address, and which addresses are refused (with the field named and no
// token shown).
func TestGitAddresses(t *testing.T) {
	type parsed struct{ api, repo string }
	parsers := map[string]func(string) (parsed, error){
		TypeGitHub: func(a string) (parsed, error) {
			api, o, r, err := parseGitHubAddress(a)
			return parsed{api, o + "/" + r}, err
		},
		TypeGitLab: func(a string) (parsed, error) {
			api, p, err := parseGitLabAddress(a)
			return parsed{api, p}, err
		},
		TypeGitea: func(a string) (parsed, error) {
			api, o, r, err := parseGiteaAddress(a)
			return parsed{api, o + "/" + r}, err
		},
	}
	cases := []struct {
		typ, address string
		want         parsed // zero: refused
	}{
		{TypeGitHub, "https://github.com/org/repo", parsed{"https://api.github.com", "org/repo"}},
		{TypeGitHub, "https://github.com/org/repo.git", parsed{"https://api.github.com", "org/repo"}},
		{TypeGitHub, "https://www.github.com/org/repo/", parsed{"https://api.github.com", "org/repo"}},
		{TypeGitHub, "https://octo.ghe.com/org/repo", parsed{"https://api.octo.ghe.com", "org/repo"}},
		{TypeGitHub, "https://ghe.example.com/org/repo", parsed{"https://ghe.example.com/api/v3", "org/repo"}},
		{TypeGitHub, "https://api.github.com/repos/org/repo", parsed{"https://api.github.com", "org/repo"}},
		{TypeGitHub, "https://ghe.example.com/api/v3/repos/org/repo", parsed{"https://ghe.example.com/api/v3", "org/repo"}},
		{TypeGitHub, "https://github.com/org", parsed{}},
		{TypeGitHub, "https://github.com/org/repo/tree/main", parsed{}},
		{TypeGitHub, "git@github.com:org/repo.git", parsed{}},
		{TypeGitHub, "ssh://git@github.com/org/repo", parsed{}},
		{TypeGitHub, "https://github.com/org/repo?tab=1", parsed{}},
		{TypeGitHub, "https://x-access-token:" + secretToken + "@github.com/org/repo", parsed{}},
		{TypeGitHub, "https://github.com/org/../repo", parsed{}},
		{TypeGitHub, "", parsed{}},
		{TypeGitLab, "https://gitlab.com/group/project", parsed{"https://gitlab.com/api/v4", "group/project"}},
		{TypeGitLab, "https://gitlab.com/group/sub/project.git", parsed{"https://gitlab.com/api/v4", "group/sub/project"}},
		{TypeGitLab, "https://gitlab.com/group/project/-/tree/main", parsed{"https://gitlab.com/api/v4", "group/project"}},
		{TypeGitLab, "https://example.com/gitlab/api/v4/projects/group%2Fproject", parsed{"https://example.com/gitlab/api/v4", "group/project"}},
		{TypeGitLab, "https://gitlab.com/api/v4/projects/1234", parsed{"https://gitlab.com/api/v4", "1234"}},
		{TypeGitLab, "https://gitlab.com/project", parsed{}},
		{TypeGitLab, "https://gitlab.com/api/v4/users/1", parsed{}},
		{TypeGitLab, "gitlab.com/group/project", parsed{}},
		{TypeGitea, "https://codeberg.org/owner/repo", parsed{"https://codeberg.org/api/v1", "owner/repo"}},
		{TypeGitea, "http://gitea.gitea.svc:3000/owner/repo.git", parsed{"http://gitea.gitea.svc:3000/api/v1", "owner/repo"}},
		{TypeGitea, "https://example.com/git/owner/repo", parsed{"https://example.com/git/api/v1", "owner/repo"}},
		{TypeGitea, "https://example.com/git/api/v1/repos/owner/repo", parsed{"https://example.com/git/api/v1", "owner/repo"}},
		{TypeGitea, "https://example.com/api/v1/repos/owner", parsed{}},
		{TypeGitea, "https://codeberg.org/owner", parsed{}},
	}
	for _, c := range cases {
		t.Run(c.typ+" "+c.address, func(t *testing.T) {
			got, err := parsers[c.typ](c.address)
			if c.want == (parsed{}) {
				if err == nil {
					t.Fatalf("accepted as %+v", got)
				}
				if !strings.HasPrefix(err.Error(), c.typ+": address") {
					t.Errorf("error does not name the address field: %v", err)
				}
				assertNoSecret(t, "error", err.Error(), secretToken)
				return
			}
			if err != nil || got != c.want {
				t.Errorf("got %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}

// TestGitTokenRequired: a git host Provider without a token is refused up
// front, naming the Secret's key.
func TestGitTokenRequired(t *testing.T) {
	for _, g := range gitTypes {
		_, err := g.new(ProviderConfig{Type: g.typ, Address: g.addr("https://git.example.com")})
		if err == nil || !strings.Contains(err.Error(), `"token"`) {
			t.Errorf("%s: want an error naming the token key, got %v", g.typ, err)
		}
	}
}

// TestGitHubRateLimit: GitHub's 403 with x-ratelimit-remaining 0 waits
// for the reset; a 403 with Retry-After (secondary limit) waits that
// long; any other 403 is final.
func TestGitHubRateLimit(t *testing.T) {
	reset := time.Now().Add(10 * time.Minute).Unix()
	cases := []struct {
		name      string
		header    map[string]string
		retryable bool
		after     time.Duration
	}{
		{"primary", map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(reset, 10)}, true, 10 * time.Minute},
		{"secondary", map[string]string{"Retry-After": "60"}, true, time.Minute},
		{"forbidden", map[string]string{"X-RateLimit-Remaining": "4999"}, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newTLSSink(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range c.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(http.StatusForbidden)
			})
			err := gitTypes[0].sender(t, gitTypes[0].config(s)).Send(context.Background(), sampleFailedMessage())
			if errors.Is(err, ErrRetryable) != c.retryable {
				t.Fatalf("retryable %v, want %v: %v", errors.Is(err, ErrRetryable), c.retryable, err)
			}
			var ra *RetryAfterError
			if c.after != 0 && (!errors.As(err, &ra) || ra.After > c.after || ra.After < c.after-2*time.Second) {
				t.Errorf("want a retry after %s, got %v", c.after, err)
			}
		})
	}
}

// TestGitLabStatusAlreadySet: GitLab refuses to set a status it already
// has with a 400; that is success, since a retry of a delivery that got
// through must not fail. Any other 400 stays an error.
func TestGitLabStatusAlreadySet(t *testing.T) {
	for _, c := range []struct {
		body string
		ok   bool
	}{
		{`{"message":"Cannot transition status via :fail from :failed (Reason(s): Status cannot transition via \"fail\")"}`, true},
		{`{"message":"Cannot transition status via :drop from :success (Reason(s): ...)"}`, false},
		{`{"message":"400 Bad request - state is invalid"}`, false},
		{`not json`, false},
	} {
		s := newTLSSink(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(c.body))
		})
		err := gitTypes[1].sender(t, gitTypes[1].config(s)).Send(context.Background(), sampleFailedMessage())
		if (err == nil) != c.ok {
			t.Errorf("%s: error %v, want ok %v", c.body, err, c.ok)
		}
		if err != nil && errors.Is(err, ErrRetryable) {
			t.Errorf("%s: a 400 is retryable: %v", c.body, err)
		}
	}
}

// TestCommitStatusAPIBase: with an API base URL as the address (the
// pinned form), each event's repository is the one its object deploys
// from, whatever form its Git URL takes; without one the error says so.
func TestCommitStatusAPIBase(t *testing.T) {
	for _, tc := range []struct {
		typ, apiPath string
		new          func(ProviderConfig) (Sender, error)
		want         string
	}{
		{TypeGitHub, "/api/v3", NewGitHubSender, "/api/v3/repos/org/web/statuses/"},
		{TypeGitLab, "/api/v4", NewGitLabSender, "/api/v4/projects/group%2Fsub%2Fweb/statuses/"},
		{TypeGitea, "/api/v1", NewGiteaSender, "/api/v1/repos/org/web/statuses/"},
	} {
		for _, src := range []string{"https://git.example.com/%s.git", "ssh://git@git.example.com:2222/%s", "git@git.example.com:%s.git"} {
			path := "org/web"
			if tc.typ == TypeGitLab {
				path = "group/sub/web"
			}
			t.Run(tc.typ+"/"+src, func(t *testing.T) {
				s := newTLSSink(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
				snd, err := tc.new(ProviderConfig{Type: tc.typ, Address: s.URL() + tc.apiPath, Token: "tok", CA: s.pki.caPEM})
				if err != nil {
					t.Fatal(err)
				}
				m := sampleFailedMessage()
				m.Event.Source = fmt.Sprintf(src, path)
				if err := snd.Send(context.Background(), m); err != nil {
					t.Fatal(err)
				}
				if got := s.only(t).URI; !strings.HasPrefix(got, tc.want) {
					t.Fatalf("posted to %s, want %s…", got, tc.want)
				}
				m.Event.Source = ""
				if err := snd.Send(context.Background(), m); err == nil || !strings.Contains(err.Error(), "API base URL") {
					t.Fatalf("without a source: %v", err)
				}
			})
		}
	}
}
