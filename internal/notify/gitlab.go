package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// gitlabDescLimit: GitLab stores a status description of up to 255
// characters.
const gitlabDescLimit = 255

// gitlabSender sets commit statuses through the GitLab REST API
// (docs.gitlab.com/api/commits/#set-the-pipeline-status-of-a-commit).
type gitlabSender struct {
	http    *httpSender
	api     string
	project string
	token   string
}

// NewGitLabSender builds the sender of a gitlab Provider. cfg.Address is
// the API base URL (https://gitlab.com/api/v4), each event's project being
// the one its object deploys from; or one project, as its web URL or its
// API URL:
//
//	https://gitlab.com/group/sub/project        → API https://gitlab.com/api/v4
//	https://git.example.com/group/project/-/tree/main (the part from "/-/" is dropped)
//	https://example.com/gitlab/api/v4/projects/group%2Fproject (GitLab under a path)
//	https://gitlab.com/api/v4/projects/1234     (a project ID)
//
// A web URL is taken as the whole path at the host's root, since GitLab
// groups nest; a GitLab served under a path needs the API form. cfg.Token
// (the Secret's "token") needs the api scope, and is sent as
// PRIVATE-TOKEN.
func NewGitLabSender(cfg ProviderConfig) (Sender, error) {
	api, project, err := parseGitLabAddress(cfg.Address)
	if err != nil {
		return nil, err
	}
	if cfg.Token == "" {
		return nil, errNoToken(TypeGitLab)
	}
	h, err := newHTTPSender(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", TypeGitLab, err)
	}
	return &gitlabSender{http: h, api: api, project: project, token: cfg.Token}, nil
}

// parseGitLabAddress finds the API base URL and the project (path or ID).
func parseGitLabAddress(address string) (api, project string, err error) {
	r, err := parseRepoURL(TypeGitLab, address)
	if err != nil {
		return "", "", err
	}
	s := r.segments
	if r.isAPIBase("v4") {
		return r.base + r.prefix(len(s)), "", nil // the project comes with each event
	}
	if i := r.apiIndex("v4"); i >= 0 {
		if len(s) < i+4 || s[i+2] != "projects" {
			return "", "", fmt.Errorf("gitlab: address %q: an API URL names a project as …/api/v4/projects/<path or id>", r.base+r.prefix(len(s)))
		}
		return r.base + r.prefix(i) + "/api/v4", strings.Join(s[i+3:], "/"), nil
	}
	if i := slices.Index(s, "-"); i >= 0 {
		s = s[:i]
	}
	if len(s) < 2 {
		return "", "", fmt.Errorf("gitlab: address %q is not a project URL (https://gitlab.com/group/project)", r.base+r.prefix(len(r.segments)))
	}
	return r.base + "/api/v4", strings.Join(s, "/"), nil
}

// Send sets the status of the event's commit: success for Synced and
// Recovered, failed for Failed and HealthDegraded, named
// "cruise/<namespace>/<name>"; other events set nothing.
func (s *gitlabSender) Send(ctx context.Context, m Message) error {
	st, ok, err := commitStatusOf(m, gitlabDescLimit)
	if err != nil || !ok {
		return err
	}
	state := "failed"
	if st.success {
		state = "success"
	}
	// The project path is one segment: its slashes are escaped.
	project := s.project
	if project == "" {
		segs, err := sourcePath(TypeGitLab, m.Event)
		if err != nil {
			return err
		}
		project = strings.Join(segs, "/")
	}
	u := s.api + "/projects/" + url.PathEscape(project) + "/statuses/" + st.sha
	header := http.Header{}
	header.Set("PRIVATE-TOKEN", s.token)
	_, err = s.http.do(ctx, httpRequest{
		method: http.MethodPost, url: u, display: u, header: header,
		body: gitlabStatus{
			State:       state,
			Name:        st.context,
			TargetURL:   st.targetURL,
			Description: st.description,
		},
		done: func(status int, body []byte) bool { return gitlabAlreadyIn(state, status, body) },
	})
	return err
}

type gitlabStatus struct {
	State       string `json:"state"`
	Name        string `json:"name"`
	TargetURL   string `json:"target_url,omitempty"`
	Description string `json:"description,omitempty"`
}

// gitlabTransition matches GitLab's refusal to move a status into the
// state it is in: "Cannot transition status via :<event> from :<state>".
var gitlabTransition = regexp.MustCompile(`Cannot transition status via :\w+ from :(\w+)`)

// gitlabAlreadyIn says whether a 400 means the status already is state:
// GitLab refuses such a transition instead of accepting it as a no-op,
// and a retry of a delivery that reached GitLab must not fail on it.
func gitlabAlreadyIn(state string, status int, body []byte) bool {
	if status != http.StatusBadRequest {
		return false
	}
	var answer struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &answer) != nil {
		return false
	}
	m := gitlabTransition.FindStringSubmatch(answer.Message)
	return m != nil && m[1] == state
}
