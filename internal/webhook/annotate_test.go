package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
)

// pushTime is the Annotator's clock in these tests.
var pushTime = time.Date(2026, 3, 2, 10, 15, 31, 123456789, time.UTC)

// TestAnnotatorThroughTheHandler sends pushes through the handler to an
// Annotator on a real API server and checks the answer and exactly which
// GitRepositories carry the reconcile request afterwards. The patches are
// made before the answer is written, so nothing needs to be polled.
func TestAnnotatorThroughTheHandler(t *testing.T) {
	env, c := cluster(t)
	tests := []struct {
		name string
		// repos maps GitRepository names to spec.url; {ns} is the
		// test's namespace, so that tests never match each other's.
		repos      map[string]string
		req        func(ns string) request
		wantStatus int
		want       Response
		// wantAnnotated are the GitRepositories asked to fetch.
		wantAnnotated []string
	}{
		{
			name: "every spelling of the pushed repository is asked to fetch",
			repos: map[string]string{
				"https":      "https://git.example.net/{ns}/config.git",
				"scp":        "git@git.example.net:{ns}/config.git",
				"ssh-port":   "ssh://git@git.example.net:2222/{ns}/Config",
				"other-repo": "https://git.example.net/{ns}/config-staging.git",
				"other-host": "https://git.example.org/{ns}/config.git",
			},
			req:           func(ns string) request { return signedGitHubPush(ns, "config", githubSecret) },
			wantStatus:    http.StatusAccepted,
			want:          Response{Triggered: 3, Repositories: []string{"{ns}/https", "{ns}/scp", "{ns}/ssh-port"}},
			wantAnnotated: []string{"https", "scp", "ssh-port"},
		},
		{
			name:       "a push that matches nothing says so",
			repos:      map[string]string{"config": "https://git.example.net/{ns}/config.git"},
			req:        func(ns string) request { return signedGitHubPush(ns, "unknown", githubSecret) },
			wantStatus: http.StatusOK,
			want: Response{Repositories: []string{},
				Message: "no GitRepository matches https://git.example.net/{ns}/unknown.git"},
		},
		{
			name:       "an unverified push is refused and annotates nothing",
			repos:      map[string]string{"config": "https://git.example.net/{ns}/config.git"},
			req:        func(ns string) request { return signedGitHubPush(ns, "config", gitlabSecret) },
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "a file:// repository is never triggered, even by its own URL",
			repos: map[string]string{
				"local":           "file:///srv/git/{ns}/config.git",
				"local-localhost": "file://localhost/srv/git/{ns}/config.git",
			},
			req: func(ns string) request {
				body := fmt.Appendf(nil, `{"url": "file://localhost/srv/git/%s/config.git"}`, ns)
				return request{path: "/hook/" + genericOpenName, body: body,
					header: hdr("X-Cruise-Signature", hubSignature(genericSecret, body))}
			},
			wantStatus: http.StatusOK,
			want: Response{Repositories: []string{},
				Message: "no GitRepository matches file://localhost/srv/git/{ns}/config.git"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ns := env.Namespace(t)
			expand := func(s string) string { return strings.ReplaceAll(s, "{ns}", ns) }
			for name, url := range tc.repos {
				createRepo(t, c, ns, name, expand(url))
			}
			srv := newServer(t, testReceivers(), &Annotator{Client: c, Now: func() time.Time { return pushTime }}, Options{})

			resp := send(t, srv, tc.req(ns))
			if resp.status != tc.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", resp.status, tc.wantStatus, resp.body)
			}
			if tc.wantStatus < 300 {
				var got Response
				if err := json.Unmarshal([]byte(resp.body), &got); err != nil {
					t.Fatalf("answer %q: %v", resp.body, err)
				}
				want := tc.want
				want.Message = expand(want.Message)
				want.Repositories = make([]string, len(tc.want.Repositories))
				for i, r := range tc.want.Repositories {
					want.Repositories[i] = expand(r)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("answer %+v\nwant   %+v", got, want)
				}
			}
			if got := annotated(t, c, ns); !reflect.DeepEqual(got, orEmpty(tc.wantAnnotated)) {
				t.Errorf("annotated %q, want %q", got, tc.wantAnnotated)
			}
		})
	}
}

// TestAnnotatorSkipsARepositoryDeletedMeanwhile: a GitRepository that is
// gone by the time its patch is sent is neither an error nor counted, and
// the others are still asked.
func TestAnnotatorSkipsARepositoryDeletedMeanwhile(t *testing.T) {
	env, c := cluster(t)
	ns := env.Namespace(t)
	url := "https://git.example.net/" + ns + "/config.git"
	createRepo(t, c, ns, "a-deleted", url)
	createRepo(t, c, ns, "b-kept", url)
	a := &Annotator{Client: deleteBeforePatch{Client: c, name: "a-deleted"}, Now: func() time.Time { return pushTime }}

	got, err := a.Trigger(t.Context(), Event{RepoURLs: []string{url}})
	if err != nil {
		t.Fatalf("Trigger: %v", err)
	}
	if want := []string{ns + "/b-kept"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Trigger = %q, want %q", got, want)
	}
	if got := annotated(t, c, ns); !reflect.DeepEqual(got, []string{"b-kept"}) {
		t.Errorf("annotated %q, want [b-kept]", got)
	}
}

// deleteBeforePatch deletes the GitRepository name just before patching
// it, as if someone deleted it between the Annotator's list and its patch.
type deleteBeforePatch struct {
	client.Client
	name string
}

func (d deleteBeforePatch) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	if obj.GetName() == d.name {
		if err := d.Delete(ctx, obj.DeepCopyObject().(client.Object)); err != nil {
			return fmt.Errorf("test: delete %s: %w", d.name, err)
		}
	}
	return d.Client.Patch(ctx, obj, patch, opts...)
}

// signedGitHubPush is a GitHub push of https://git.example.net/<owner>/<repo>,
// signed with secret, naming its https, ssh and web URLs as GitHub does.
func signedGitHubPush(owner, repo, secret string) request {
	body, _ := json.Marshal(map[string]any{
		"ref": "refs/heads/main",
		"repository": map[string]string{
			"clone_url": fmt.Sprintf("https://git.example.net/%s/%s.git", owner, repo),
			"ssh_url":   fmt.Sprintf("git@git.example.net:%s/%s.git", owner, repo),
			"html_url":  fmt.Sprintf("https://git.example.net/%s/%s", owner, repo),
		},
	})
	return request{path: "/hook/" + githubName, body: body,
		header: hdr("X-GitHub-Event", "push", "X-Hub-Signature-256", hubSignature(secret, body))}
}

func createRepo(t *testing.T, c client.Client, ns, name, url string) {
	t.Helper()
	repo := &cruisev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       cruisev1.GitRepositorySpec{URL: url, Interval: metav1.Duration{Duration: time.Hour}},
	}
	if err := c.Create(t.Context(), repo); err != nil {
		t.Fatalf("create GitRepository %s/%s: %v", ns, name, err)
	}
}

// annotated lists the GitRepositories of ns that carry the reconcile
// request of pushTime, failing on any other value.
func annotated(t *testing.T, c client.Client, ns string) []string {
	t.Helper()
	var list cruisev1.GitRepositoryList
	if err := c.List(t.Context(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, r := range list.Items {
		v, ok := r.Annotations[cruisev1.ReconcileRequestAnnotation]
		if !ok {
			continue
		}
		if want := pushTime.Format(time.RFC3339Nano); v != want {
			t.Errorf("%s: %s = %q, want %q", r.Name, cruisev1.ReconcileRequestAnnotation, v, want)
		}
		names = append(names, r.Name)
	}
	return names
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
