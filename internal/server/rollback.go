package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/gitwrite"
	"github.com/cruisegitops/cruise/internal/pipeline"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
	"github.com/cruisegitops/cruise/internal/source"
)

var hexRevision = regexp.MustCompile(`^[0-9a-f]{7,40}$`)

// rollback commits a revert of app's files to the state at revision on
// its source branch, as the user, and returns what was pushed.
func (s *Server) rollback(ctx context.Context, ns, name, revision string) (*apiv1.RollbackResult, error) {
	revision = strings.ToLower(strings.TrimSpace(revision))
	if !hexRevision.MatchString(revision) {
		return nil, newError(http.StatusBadRequest, apiv1.CodeBadRequest, "revision %q: want a commit SHA (7 to 40 hex digits)", revision)
	}
	id := identityFrom(ctx)
	c, err := s.kube.forIdentity(id)
	if err != nil {
		return nil, err
	}
	app, err := s.getApplication(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	// Rolling back changes what runs: only someone who may change the
	// Application may ask for it. The check is made by Kubernetes, as the
	// user: a server-side dry-run of the same annotation a sync sets.
	if err := s.canUpdate(ctx, c, app); err != nil {
		return nil, err
	}
	if ch := app.Spec.Chart; ch != nil {
		return nil, newError(http.StatusUnprocessableEntity, apiv1.CodeNotRollbackable,
			"application %s/%s deploys chart %s from %s, not a Git path: roll back by reverting the commit that changed its spec.chart.version in the repository that holds the Application", ns, name, ch.Name, ch.RepoURL)
	}
	repo := &v1alpha1.GitRepository{}
	srcKey := client.ObjectKey{Namespace: app.SourceNamespace(), Name: app.Spec.SourceRef.Name}
	if err := c.Get(ctx, srcKey, repo); err != nil {
		return nil, fromKube(err, "source "+srcKey.String()+" of application "+ns+"/"+name)
	}
	branch := rollbackBranch(repo)
	if branch == "" {
		return nil, newError(http.StatusUnprocessableEntity, apiv1.CodeNotRollbackable,
			"source %s tracks a tag, a version range or a commit, or was never fetched: a rollback needs a branch to commit to", srcKey)
	}
	target, err := resolveRevision(app, revision)
	if err != nil {
		return nil, err
	}
	if err := sameManifests(app, target); err != nil {
		return nil, err
	}
	auth, err := s.pushAuth(ctx, c, repo)
	if err != nil {
		return nil, err
	}
	base := source.RevisionCommit(app.Status.LastAppliedRevision)
	email := id.Email
	if email == "" {
		email = strings.ReplaceAll(id.User, " ", "_") + "@cruise.invalid"
	}
	res, err := gitwrite.Revert(ctx, gitwrite.Request{
		URL: repo.Spec.URL, Branch: branch, Auth: auth, Target: target, Base: base,
		Paths:   pipeline.Paths(app),
		Author:  gitwrite.Signature{Name: id.User, Email: email},
		Message: fmt.Sprintf("Roll back %s/%s to %s\n\nRestores the application's files to their state at %s.\nRequested by %s via cruise server.\n", ns, name, target[:7], target, id.User),
		Timeout: s.opts.GitTimeout,
	})
	if err != nil {
		return nil, gitError(err)
	}
	s.audit(ctx, "rollback", ns, name, "target", target, "commit", res.Commit)
	return &apiv1.RollbackResult{Commit: res.Commit, Branch: branch, Target: target, Changed: res.Changed, NoOp: res.NoOp}, nil
}

var fullSHARe = regexp.MustCompile(`^[0-9a-f]{40}$`)

// rollbackBranch is the branch a GitRepository tracks: spec.ref.branch,
// or, without a ref, the default branch the last fetch resolved (its
// revision is "<branch>@sha1:<commit>"); "" for tags, semver and commits.
func rollbackBranch(repo *v1alpha1.GitRepository) string {
	if r := repo.Spec.Ref; r != nil && (r.Tag != "" || r.SemVer != "" || r.Commit != "") {
		return ""
	}
	if r := repo.Spec.Ref; r != nil && r.Branch != "" {
		return r.Branch
	}
	if art := repo.Status.Artifact; art != nil {
		if rev, ok := source.ParseRevision(art.Revision); ok {
			return rev.Ref
		}
	}
	return ""
}

// resolveRevision expands a SHA prefix from the application's history; a
// full SHA not in the (bounded) history is passed on for Git to check.
func resolveRevision(app *v1alpha1.Application, rev string) (string, error) {
	var found []string
	for _, h := range app.Status.History {
		if c := source.RevisionCommit(h.Revision); strings.HasPrefix(c, rev) && !containsString(found, c) {
			found = append(found, c)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		return "", newError(http.StatusBadRequest, apiv1.CodeBadRequest, "revision %s is ambiguous: %s", rev, strings.Join(found, ", "))
	case fullSHARe.MatchString(rev):
		return rev, nil
	}
	return "", newError(http.StatusUnprocessableEntity, apiv1.CodeNotRollbackable,
		"revision %s is not in the history of %s/%s: give the full SHA", rev, app.Namespace, app.Name)
}

// sameManifests refuses, before any Git work, a rollback that would
// change nothing: every recorded sync of target rendered the manifests
// that run now (the same digest). Rolling back to the current commit
// itself is left to Git, which answers it as a no-op.
func sameManifests(app *v1alpha1.Application, target string) error {
	cur := currentSync(app)
	if cur == nil || cur.Digest == "" || source.RevisionCommit(cur.Revision) == target {
		return nil
	}
	seen := false
	for _, h := range app.Status.History {
		if source.RevisionCommit(h.Revision) != target {
			continue
		}
		if h.Digest != cur.Digest {
			return nil
		}
		seen = true
	}
	if !seen {
		return nil
	}
	return newError(http.StatusUnprocessableEntity, apiv1.CodeNotRollbackable,
		"nothing to roll back: revision %s deployed the same manifests as the current revision %s (%s)",
		target[:12], shortCommit(source.RevisionCommit(cur.Revision)), cur.Digest)
}

// currentSync is the newest successful sync of the revision the
// application runs, else its newest successful sync; nil if none. The
// web UI decides which history entries offer a rollback the same way.
func currentSync(app *v1alpha1.Application) *v1alpha1.SyncResult {
	var newest *v1alpha1.SyncResult
	for i := range app.Status.History {
		h := &app.Status.History[i]
		if h.Result != "Succeeded" {
			continue
		}
		if h.Revision == app.Status.LastAppliedRevision {
			return h
		}
		if newest == nil {
			newest = h
		}
	}
	return newest
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

func containsString(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// canUpdate asks Kubernetes, with a dry-run patch as the user, whether
// they may change the Application.
func (s *Server) canUpdate(ctx context.Context, c client.Client, app *v1alpha1.Application) error {
	patch := []byte(`{"metadata":{"annotations":{"cruise.dev/rollback-check":"x"}}}`)
	probe := &v1alpha1.Application{}
	probe.Namespace, probe.Name = app.Namespace, app.Name
	if err := c.Patch(ctx, probe, client.RawPatch("application/merge-patch+json", patch), client.DryRunAll); err != nil {
		return fromKube(err, "application "+app.Namespace+"/"+app.Name)
	}
	return nil
}

// pushAuth reads the push credentials as the user.
func (s *Server) pushAuth(ctx context.Context, c client.Client, repo *v1alpha1.GitRepository) (*source.Auth, error) {
	ref := repo.Spec.PushSecretRef
	if ref == nil {
		ref = repo.Spec.SecretRef
	}
	if ref == nil {
		return nil, nil
	}
	secret := &corev1.Secret{}
	key := client.ObjectKey{Namespace: repo.Namespace, Name: ref.Name}
	if err := c.Get(ctx, key, secret); err != nil {
		return nil, fromKube(err, "push credentials Secret "+key.String())
	}
	return source.AuthFromData(secret.Data), nil
}

// gitError maps gitwrite's errors (its own sentinels and the Git
// transport's, from internal/source) to the API's.
func gitError(err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, gitwrite.ErrConflict):
		e := newError(http.StatusConflict, apiv1.CodeConflict, "%s", msg)
		e.files = gitwrite.ConflictFiles(err)
		return e
	case errors.Is(err, gitwrite.ErrNotAncestor), errors.Is(err, source.ErrRefNotFound):
		return newError(http.StatusUnprocessableEntity, apiv1.CodeNotRollbackable, "%s", msg)
	case errors.Is(err, source.ErrInvalid):
		return newError(http.StatusBadRequest, apiv1.CodeBadRequest, "%s", msg)
	case errors.Is(err, source.ErrAuth), errors.Is(err, source.ErrHostKey), errors.Is(err, source.ErrRepoNotFound),
		errors.Is(err, gitwrite.ErrRejected):
		return newError(http.StatusBadGateway, apiv1.CodeUnavailable, "%s", msg)
	case errors.Is(err, source.ErrUnreachable):
		return newError(http.StatusServiceUnavailable, apiv1.CodeUnavailable, "%s", msg)
	}
	return newError(http.StatusInternalServerError, apiv1.CodeInternal, "%s", msg)
}

func (s *Server) handleRollback(w http.ResponseWriter, r *http.Request) {
	var req apiv1.RollbackRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, newError(http.StatusBadRequest, apiv1.CodeBadRequest, "body: want {\"revision\": \"<sha>\"}: %v", err))
		return
	}
	res, err := s.rollback(r.Context(), r.PathValue("ns"), r.PathValue("name"), req.Revision)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
