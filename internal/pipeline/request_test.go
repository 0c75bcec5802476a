package pipeline

import (
	"testing"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/source"
)

func TestSourceRequest(t *testing.T) {
	const url = "https://git.example/shop.git"
	const sha = "0123456789abcdef0123456789abcdef01234567"
	auth := &source.Auth{Username: "bot"}
	tests := []struct {
		name string
		ref  *v1alpha1.GitRef
		want source.Ref
	}{
		{"no ref: the remote's HEAD", nil, source.Ref{}},
		{"branch", &v1alpha1.GitRef{Branch: "release/v2"}, source.Ref{Branch: "release/v2"}},
		{"tag", &v1alpha1.GitRef{Tag: "v1.2.0"}, source.Ref{Tag: "v1.2.0"}},
		{"semver", &v1alpha1.GitRef{SemVer: ">=1 <2"}, source.Ref{SemVer: ">=1 <2"}},
		{"commit", &v1alpha1.GitRef{Commit: sha}, source.Ref{Commit: sha}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := &v1alpha1.GitRepository{Spec: v1alpha1.GitRepositorySpec{URL: url, Ref: tt.ref}}
			got := SourceRequest(repo, auth)
			if got.URL != url || got.Ref != tt.want || got.Auth != auth {
				t.Errorf("SourceRequest = %+v, want URL %s, ref %+v and the auth given", got, url, tt.want)
			}
		})
	}
}
