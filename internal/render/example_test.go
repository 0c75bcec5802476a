package render_test

import (
	"context"
	"fmt"
	"os"

	"github.com/cruisegitops/cruise/internal/render"
)

// Render an overlay and print it the way `cruise build` does.
func ExampleRender() {
	opts := render.DefaultOptions()
	opts.Root = "testdata/kustomize-overlay-generators/repo"
	opts.Path = "overlays/prod"
	res, err := render.Render(context.Background(), opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range res.Objects {
		fmt.Println(o.GetKind(), o.GetNamespace()+"/"+o.GetName())
	}
	fmt.Println(res.Files[0])
	// Output:
	// ConfigMap prod/prod-web-config-td8hbcgc75
	// Secret prod/prod-web-secret-t889hdd56b
	// Service prod/prod-web
	// Deployment prod/prod-web
	// base/deployment.yaml
}

func ExampleWriteYAML() {
	res, err := render.Render(context.Background(), render.Options{
		Root: "testdata/single-file/repo",
		Path: "apps/one.yaml",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := render.WriteYAML(os.Stdout, res.Objects); err != nil {
		fmt.Println(err)
	}
	// Output:
	// ---
	// # Source: apps/one.yaml
	// apiVersion: v1
	// kind: ConfigMap
	// metadata:
	//   name: one
}
