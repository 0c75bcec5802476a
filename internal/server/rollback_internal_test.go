package server

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

func TestRollbackBranch(t *testing.T) {
	fetched := &v1alpha1.Artifact{Revision: "trunk@sha1:0123456789abcdef0123456789abcdef01234567"}
	tests := []struct {
		name string
		ref  *v1alpha1.GitRef
		art  *v1alpha1.Artifact
		want string
	}{
		{"branch", &v1alpha1.GitRef{Branch: "main"}, fetched, "main"},
		{"default branch, as fetched", nil, fetched, "trunk"},
		{"default branch, never fetched", nil, nil, ""},
		{"tag", &v1alpha1.GitRef{Tag: "v1"}, &v1alpha1.Artifact{Revision: "v1@sha1:0123"}, ""},
		{"semver", &v1alpha1.GitRef{SemVer: ">=1.0"}, fetched, ""},
		{"commit", &v1alpha1.GitRef{Commit: "0123456789abcdef0123456789abcdef01234567"}, &v1alpha1.Artifact{Revision: "sha1:0123"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := &v1alpha1.GitRepository{Spec: v1alpha1.GitRepositorySpec{Ref: tt.ref}, Status: v1alpha1.GitRepositoryStatus{Artifact: tt.art}}
			if got := rollbackBranch(repo); got != tt.want {
				t.Errorf("rollbackBranch = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSameManifestsRefusesANoOpRollback(t *testing.T) {
	sha := func(c byte) string { return strings.Repeat(string(c), 40) }
	sync := func(c byte, result, digest string) v1alpha1.SyncResult {
		return v1alpha1.SyncResult{Revision: "main@sha1:" + sha(c), Result: result, Digest: digest}
	}
	tests := []struct {
		name    string
		history []v1alpha1.SyncResult
		target  string
		refused bool
	}{
		{"older commit, same digest", []v1alpha1.SyncResult{sync('c', "Succeeded", "sha256:1"), sync('b', "Succeeded", "sha256:2"), sync('a', "Succeeded", "sha256:1")}, sha('a'), true},
		{"older commit, other digest", []v1alpha1.SyncResult{sync('c', "Succeeded", "sha256:1"), sync('b', "Succeeded", "sha256:2")}, sha('b'), false},
		{"one of its syncs rendered something else", []v1alpha1.SyncResult{sync('c', "Succeeded", "sha256:1"), sync('a', "Succeeded", "sha256:2"), sync('a', "Succeeded", "sha256:1")}, sha('a'), false},
		{"no digests recorded", []v1alpha1.SyncResult{sync('c', "Succeeded", ""), sync('a', "Succeeded", "")}, sha('a'), false},
		{"the current commit: Git answers it as a no-op", []v1alpha1.SyncResult{sync('c', "Succeeded", "sha256:1"), sync('c', "Succeeded", "sha256:1")}, sha('c'), false},
		{"a commit not in the history", []v1alpha1.SyncResult{sync('c', "Succeeded", "sha256:1")}, sha('d'), false},
		{"no successful sync", []v1alpha1.SyncResult{sync('c', "Failed", "sha256:1"), sync('a', "Failed", "sha256:1")}, sha('a'), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := &v1alpha1.Application{}
			app.Namespace, app.Name = "shop", "web"
			app.Status.History = tt.history
			app.Status.LastAppliedRevision = "main@sha1:" + sha('c')
			err := sameManifests(app, tt.target)
			if !tt.refused {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != http.StatusUnprocessableEntity || ae.code != apiv1.CodeNotRollbackable ||
				!strings.Contains(err.Error(), "nothing to roll back: revision "+tt.target[:12]+" deployed the same manifests") {
				t.Fatalf("error = %v, want a 422 not_rollbackable saying there is nothing to roll back", err)
			}
		})
	}
}
