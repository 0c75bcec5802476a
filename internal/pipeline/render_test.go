package pipeline

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/render"
)

func TestRenderOptions(t *testing.T) {
	repo := &v1alpha1.GitRepository{Spec: v1alpha1.GitRepositorySpec{URL: "https://git.example/shop.git", Ignore: "*.test.yaml"}}
	tests := []struct {
		name string
		path string
		repo *v1alpha1.GitRepository
		want render.Options
	}{
		{"path and ignore", "apps/web", repo, render.Options{Root: "/checkout", Path: "apps/web", Ignore: "*.test.yaml"}},
		{"root of the repository", "", repo, render.Options{Root: "/checkout", Ignore: "*.test.yaml"}},
		{"no repository: no ignore", "apps/web", nil, render.Options{Root: "/checkout", Path: "apps/web"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := app(func(s *v1alpha1.ApplicationSpec) { s.Path = tt.path })
			if got := RenderOptions(a, tt.repo, "/checkout", nil); got != tt.want {
				t.Errorf("RenderOptions = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// Render reads spec.path of the checkout and skips what spec.ignore names.
func TestRender(t *testing.T) {
	repo := &v1alpha1.GitRepository{Spec: v1alpha1.GitRepositorySpec{Ignore: "*.test.yaml"}}
	res, err := Render(context.Background(), app(nil), repo, filepath.Join("testdata", "checkout"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range res.Objects {
		names = append(names, o.GetName()+" from "+o.Source)
	}
	if want := []string{"web from apps/web/cm.yaml"}; !slices.Equal(names, want) {
		t.Errorf("rendered %q, want %q", names, want)
	}
}
