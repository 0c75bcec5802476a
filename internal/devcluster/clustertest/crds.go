package clustertest

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/config"
	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/render"
)

// InstallCRDs applies cruise's CustomResourceDefinitions (the ones built
// into the binary: every file controller-gen wrote to config/crd/bases,
// whether or not config/crd/kustomization.yaml lists it yet, since
// `cruise controller` watches every kind) and waits until they are served.
func InstallCRDs(ctx context.Context, cfg *rest.Config) error {
	res, err := render.RenderFS(ctx, config.FS, "config", render.Options{Path: "config/crd/bases"})
	if err != nil {
		return err
	}
	eng, err := apply.NewEngine(cfg, apply.EngineOptions{FieldManager: "cruise-test"})
	if err != nil {
		return err
	}
	// kstatus counts a CRD as Current once it is Established.
	if _, err := eng.Apply(ctx, res.Objects, apply.ApplyOptions{WaitTimeout: time.Minute}); err != nil {
		return fmt.Errorf("install CRDs: %w", err)
	}
	return nil
}

// Scheme returns a scheme with the Kubernetes built-in kinds and cruise's.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := cruisev1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}
