package pipeline

import (
	"slices"
	"testing"

	"github.com/cruisegitops/cruise/api/v1alpha1"
)

func TestPaths(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		rendered []string
		want     []string
	}{
		{"directory", "apps/web", nil, []string{"apps/web"}},
		{"written with ./ and a trailing slash", "./apps/web/", nil, []string{"apps/web"}},
		{"files inside the directory are covered by it", "apps/web", []string{"apps/web/kustomization.yaml", "apps/web/deploy.yaml"}, []string{"apps/web"}},
		{"bases outside", "overlays/prod", []string{"overlays/prod/kustomization.yaml", "base/deploy.yaml", "base/kustomization.yaml"},
			[]string{"overlays/prod", "base/deploy.yaml", "base/kustomization.yaml"}},
		{"a single file", "apps/web.yaml", []string{"apps/web.yaml"}, []string{"apps/web.yaml"}},
		{"a sibling with the same prefix is outside", "apps/web", []string{"apps/web-extra/cm.yaml"}, []string{"apps/web", "apps/web-extra/cm.yaml"}},
		{"nothing outside the repository", "apps/web", []string{"../secrets/key.yaml"}, []string{"apps/web"}},
		{"the whole repository", "", []string{"cm.yaml"}, nil},
		{"the whole repository, written .", ".", nil, nil},
		{"the whole repository, written ./", "./", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := app(func(s *v1alpha1.ApplicationSpec) { s.Path = tt.path })
			a.Status.RenderedFiles = tt.rendered
			if got := Paths(a); !slices.Equal(got, tt.want) {
				t.Errorf("Paths = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAffected(t *testing.T) {
	overlay := func(s *v1alpha1.ApplicationSpec) { s.Path = "overlays/prod" }
	whole := func(s *v1alpha1.ApplicationSpec) { s.Path = "." }
	rendered := []string{"overlays/prod/kustomization.yaml", "base/deploy.yaml"}
	tests := []struct {
		name    string
		edit    func(*v1alpha1.ApplicationSpec)
		changed []string
		want    bool
	}{
		{"a file it rendered", overlay, []string{"README.md", "overlays/prod/kustomization.yaml"}, true},
		{"a base file outside its path", overlay, []string{"base/deploy.yaml"}, true},
		{"a new file under its path", overlay, []string{"overlays/prod/new.yaml"}, true},
		{"another base file it did not read", overlay, []string{"base/unused.yaml"}, false},
		{"another application", overlay, []string{"overlays/staging/kustomization.yaml", "overlays/prod-eu/x.yaml"}, false},
		{"no change", overlay, nil, false},
		{"the whole repository: any change", whole, []string{"docs/README.md"}, true},
		{"the whole repository: no change", whole, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := app(tt.edit)
			a.Status.RenderedFiles = rendered
			if got := Affected(a, tt.changed); got != tt.want {
				t.Errorf("Affected(%q) = %v, want %v", tt.changed, got, tt.want)
			}
		})
	}
}
