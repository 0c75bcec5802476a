package notify

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// githubDescLimit: GitHub refuses a status description longer than 140
// characters.
const githubDescLimit = 140

// githubSender sets commit statuses through the GitHub REST API
// (docs.github.com/rest/commits/statuses#create-a-commit-status).
type githubSender struct {
	http  *httpSender
	api   string
	owner string
	repo  string
	token string
}

// NewGitHubSender builds the sender of a github Provider. cfg.Address is
// the API base URL (https://api.github.com, https://ghe.example.com/api/v3),
// and each event's repository is the one its object deploys from; or one
// repository, as its web URL or its API URL:
//
//	https://github.com/org/repo           → API https://api.github.com
//	https://octo.ghe.com/org/repo         → API https://api.octo.ghe.com (GHE.com)
//	https://ghe.example.com/org/repo      → API https://ghe.example.com/api/v3 (GHE Server)
//	https://ghe.example.com/api/v3/repos/org/repo → that API, that repository
//
// A trailing ".git" is ignored. cfg.Token (the Secret's "token") is a
// token allowed to write commit statuses (fine-grained: "Commit
// statuses: write"), sent as a Bearer token.
func NewGitHubSender(cfg ProviderConfig) (Sender, error) {
	api, owner, repo, err := parseGitHubAddress(cfg.Address)
	if err != nil {
		return nil, err
	}
	if cfg.Token == "" {
		return nil, errNoToken(TypeGitHub)
	}
	h, err := newHTTPSender(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", TypeGitHub, err)
	}
	return &githubSender{http: h, api: api, owner: owner, repo: repo, token: cfg.Token}, nil
}

// parseGitHubAddress finds the API base URL and the repository.
func parseGitHubAddress(address string) (api, owner, repo string, err error) {
	r, err := parseRepoURL(TypeGitHub, address)
	if err != nil {
		return "", "", "", err
	}
	s := r.segments
	host := strings.TrimPrefix(r.base, "https://")
	host = strings.TrimPrefix(host, "http://")
	switch {
	case len(s) == 0 && (host == "api.github.com" || strings.HasPrefix(host, "api.") && strings.HasSuffix(host, ".ghe.com")):
		return r.base, "", "", nil // an API base URL: the repository comes with each event
	case r.isAPIBase("v3"):
		return r.base + r.prefix(len(s)), "", "", nil
	case len(s) >= 3 && s[len(s)-3] == "repos":
		return r.base + r.prefix(len(s)-3), s[len(s)-2], s[len(s)-1], nil
	case len(s) != 2:
		return "", "", "", fmt.Errorf("github: address %q is not a repository URL (https://github.com/owner/repo)", r.base+r.prefix(len(s)))
	case host == "github.com" || host == "www.github.com":
		return "https://api.github.com", s[0], s[1], nil
	case strings.HasSuffix(host, ".ghe.com"):
		return strings.Replace(r.base, "://", "://api.", 1), s[0], s[1], nil
	default:
		return r.base + "/api/v3", s[0], s[1], nil
	}
}

// Send sets the status of the event's commit: success for Synced and
// Recovered, failure for Failed and HealthDegraded, under the context
// "cruise/<namespace>/<name>"; other events set nothing.
func (s *githubSender) Send(ctx context.Context, m Message) error {
	st, ok, err := commitStatusOf(m, githubDescLimit)
	if err != nil || !ok {
		return err
	}
	state := "failure"
	if st.success {
		state = "success"
	}
	owner, repo, err := ownerRepo(TypeGitHub, s.owner, s.repo, m.Event)
	if err != nil {
		return err
	}
	u := s.api + "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(repo) + "/statuses/" + st.sha
	header := http.Header{}
	header.Set("Authorization", "Bearer "+s.token)
	header.Set("Accept", "application/vnd.github+json")
	_, err = s.http.do(ctx, httpRequest{
		method: http.MethodPost, url: u, display: u, header: header,
		body: githubStatus{
			State:       state,
			TargetURL:   st.targetURL,
			Description: st.description,
			Context:     st.context,
		},
		rateLimited: githubRateLimited,
	})
	return err
}

type githubStatus struct {
	State       string `json:"state"`
	TargetURL   string `json:"target_url,omitempty"`
	Description string `json:"description,omitempty"`
	Context     string `json:"context"`
}

// githubRateLimited reads GitHub's rate limit answers, which may be 403
// rather than 429 (docs.github.com/rest/using-the-rest-api/
// rate-limits-for-the-rest-api): Retry-After for a secondary limit,
// x-ratelimit-remaining 0 with x-ratelimit-reset (epoch seconds) for the
// primary one.
func githubRateLimited(resp *http.Response, now time.Time) (time.Duration, bool) {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return 0, false
	}
	if after, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
		return after, true
	}
	if resp.Header.Get("X-Ratelimit-Remaining") != "0" {
		return 0, false
	}
	reset, err := strconv.ParseInt(resp.Header.Get("X-Ratelimit-Reset"), 10, 64)
	if err != nil {
		return 0, true
	}
	return max(time.Unix(reset, 0).Sub(now), 0), true
}
