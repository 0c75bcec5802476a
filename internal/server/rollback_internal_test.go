package server

import (
	"testing"

	"github.com/cruisegitops/cruise/api/v1alpha1"
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
