package notify

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// giteaDescLimit: Gitea takes longer descriptions, but its UI shows a
// line; cruise keeps GitHub's 140.
const giteaDescLimit = 140

// giteaSender sets commit statuses through the Gitea API, which Forgejo
// shares (POST /api/v1/repos/{owner}/{repo}/statuses/{sha}).
type giteaSender struct {
	http  *httpSender
	api   string
	owner string
	repo  string
	token string
}

// NewGiteaSender builds the sender of a gitea Provider (Gitea or Forgejo).
// cfg.Address is the API base URL (https://codeberg.org/api/v1), each
// event's repository being the one its object deploys from; or one
// repository, as its web URL or its API URL:
//
//	https://codeberg.org/owner/repo              → API https://codeberg.org/api/v1
//	https://example.com/git/owner/repo           → API https://example.com/git/api/v1 (served under a path)
//	https://example.com/git/api/v1/repos/owner/repo → that API, that repository
//
// The last two segments of a web URL are the owner and the repository;
// what comes before them is where Gitea is served. cfg.Token (the
// Secret's "token") needs the write:repository scope, and is sent as
// "Authorization: token …".
func NewGiteaSender(cfg ProviderConfig) (Sender, error) {
	api, owner, repo, err := parseGiteaAddress(cfg.Address)
	if err != nil {
		return nil, err
	}
	if cfg.Token == "" {
		return nil, errNoToken(TypeGitea)
	}
	h, err := newHTTPSender(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", TypeGitea, err)
	}
	return &giteaSender{http: h, api: api, owner: owner, repo: repo, token: cfg.Token}, nil
}

// parseGiteaAddress finds the API base URL and the repository.
func parseGiteaAddress(address string) (api, owner, repo string, err error) {
	r, err := parseRepoURL(TypeGitea, address)
	if err != nil {
		return "", "", "", err
	}
	s := r.segments
	if r.isAPIBase("v1") {
		return r.base + r.prefix(len(s)), "", "", nil // the repository comes with each event
	}
	if i := r.apiIndex("v1"); i >= 0 {
		if len(s) != i+5 || s[i+2] != "repos" {
			return "", "", "", fmt.Errorf("gitea: address %q: an API URL names a repository as …/api/v1/repos/<owner>/<repo>", r.base+r.prefix(len(s)))
		}
		return r.base + r.prefix(i) + "/api/v1", s[i+3], s[i+4], nil
	}
	if len(s) < 2 {
		return "", "", "", fmt.Errorf("gitea: address %q is not a repository URL (https://gitea.example.com/owner/repo)", r.base+r.prefix(len(s)))
	}
	n := len(s)
	return r.base + r.prefix(n-2) + "/api/v1", s[n-2], s[n-1], nil
}

// Send sets the status of the event's commit: success for Synced and
// Recovered, failure for Failed and HealthDegraded, under the context
// "cruise/<namespace>/<name>"; other events set nothing.
func (s *giteaSender) Send(ctx context.Context, m Message) error {
	st, ok, err := commitStatusOf(m, giteaDescLimit)
	if err != nil || !ok {
		return err
	}
	state := "failure"
	if st.success {
		state = "success"
	}
	owner, repo, err := ownerRepo(TypeGitea, s.owner, s.repo, m.Event)
	if err != nil {
		return err
	}
	u := s.api + "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(repo) + "/statuses/" + st.sha
	header := http.Header{}
	header.Set("Authorization", "token "+s.token)
	_, err = s.http.do(ctx, httpRequest{
		method: http.MethodPost, url: u, display: u, header: header,
		body: giteaStatus{
			State:       state,
			TargetURL:   st.targetURL,
			Description: st.description,
			Context:     st.context,
		},
	})
	return err
}

type giteaStatus struct {
	State       string `json:"state"`
	TargetURL   string `json:"target_url,omitempty"`
	Description string `json:"description,omitempty"`
	Context     string `json:"context"`
}
