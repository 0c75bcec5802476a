package cli

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/helm"
	"github.com/cruisegitops/cruise/internal/render"
)

// releaseNamespace is the namespace of a chart's release: --target-namespace
// when set, else --namespace (or the context's).
func (c *cluster) releaseNamespace() string {
	if c.namespaces.Target != "" {
		return c.namespaces.Target
	}
	return c.namespaces.Default
}

// chartEnv reads from the cluster what rendering a chart for it takes:
// its version and API versions, whether the release was applied before
// under the inventory's name, and the generated values kept then.
func (c *cluster) chartEnv() chartEnvFunc {
	return func(ctx context.Context) (*chartEnv, error) {
		kube, apis, err := serverCapabilities(c.config)
		if err != nil {
			return nil, err
		}
		upgrade, err := c.inventoryExists(ctx)
		if err != nil {
			return nil, err
		}
		kept, err := helm.LoadGenerated(ctx, c.engine.Client(), c.owner.Namespace, helm.GeneratedSecretName(c.owner.Name))
		if err != nil {
			return nil, err
		}
		return &chartEnv{
			ReleaseName: c.owner.Name,
			Namespace:   c.releaseNamespace(),
			KubeVersion: kube,
			APIVersions: apis,
			Lookup:      c.config,
			Upgrade:     upgrade,
			Generated:   helm.NewGenerated(kept),
		}, nil
	}
}

// inventoryExists says whether anything was applied under the inventory's
// name: its ConfigMap exists. The first apply installs the release, later
// ones upgrade it.
func (c *cluster) inventoryExists(ctx context.Context) (bool, error) {
	key := client.ObjectKey{Namespace: c.owner.Namespace, Name: inventoryPrefix + c.owner.Name}
	err := c.engine.Client().Get(ctx, key, &corev1.ConfigMap{})
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read inventory ConfigMap/%s/%s: %w", key.Namespace, key.Name, err)
	}
	return true, nil
}

// inventoryPrefix names push mode's inventory ConfigMaps, as
// apply.ConfigMapInventory does.
const inventoryPrefix = "cruise-inventory-"

// serverCapabilities is .Capabilities as Helm reads it from a cluster: the
// API server's version, and every group/version and group/version/Kind
// discovery lists. Groups that fail discovery are left out, as in Helm.
func serverCapabilities(cfg *rest.Config) (string, []string, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return "", nil, fmt.Errorf("discovery client for %s: %w", cfg.Host, err)
	}
	v, err := dc.ServerVersion()
	if err != nil {
		return "", nil, fmt.Errorf("read the Kubernetes version of %s: %w", cfg.Host, err)
	}
	groups, resources, err := dc.ServerGroupsAndResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return "", nil, fmt.Errorf("read the API versions of %s: %w", cfg.Host, err)
	}
	set := map[string]bool{}
	for _, g := range groups {
		for _, gv := range g.Versions {
			set[gv.GroupVersion] = true
		}
	}
	for _, list := range resources {
		for _, r := range list.APIResources {
			set[list.GroupVersion+"/"+r.Kind] = true
		}
	}
	apis := make([]string, 0, len(set))
	for k := range set {
		apis = append(apis, k)
	}
	sort.Strings(apis)
	return v.GitVersion, apis, nil
}

// checkStoredVersions refuses a CRD of the chart that drops a version its
// live CRD lists in status.storedVersions: objects stored at that version
// would no longer be readable. Nothing is changed either way.
func checkStoredVersions(ctx context.Context, c client.Reader, crds []render.Object) error {
	for _, crd := range crds {
		if crd.GetKind() != "CustomResourceDefinition" {
			continue
		}
		live := &unstructured.Unstructured{}
		live.SetAPIVersion("apiextensions.k8s.io/v1")
		live.SetKind("CustomResourceDefinition")
		err := c.Get(ctx, client.ObjectKey{Name: crd.GetName()}, live)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read CustomResourceDefinition %s: %w", crd.GetName(), err)
		}
		stored, _, _ := unstructured.NestedStringSlice(live.Object, "status", "storedVersions")
		versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
		var names []string
		for _, v := range versions {
			if m, ok := v.(map[string]any); ok {
				if n, ok := m["name"].(string); ok {
					names = append(names, n)
				}
			}
		}
		for _, s := range stored {
			if !slices.Contains(names, s) {
				return fmt.Errorf("CustomResourceDefinition %s (%s): the chart drops version %s, which status.storedVersions lists: objects stored as %s would become unreadable; migrate them to another version and remove %s from status.storedVersions first",
					crd.GetName(), crd.Source, s, s, s)
			}
		}
	}
	return nil
}

// keepGenerated stores the values a render generated, once, when they
// changed; it runs just before the first change to the cluster, so a
// failed validation leaves nothing behind and an applied object never
// carries a value that was not kept.
type keepGenerated struct {
	once sync.Once
	err  error
	do   func(ctx context.Context) error
}

func (k *keepGenerated) keep(ctx context.Context) error {
	k.once.Do(func() { k.err = k.do(ctx) })
	return k.err
}

// newKeepGenerated keeps rel's generated values in the Secret beside the
// inventory ConfigMap.
func (c *cluster) newKeepGenerated(rel *chartRelease) *keepGenerated {
	return &keepGenerated{do: func(ctx context.Context) error {
		gen := rel.Env.Generated
		if gen == nil || !gen.Changed() {
			return nil
		}
		labels := map[string]string{"app.kubernetes.io/managed-by": "cruise", apply.LabelName: c.owner.Name}
		return helm.StoreGenerated(ctx, c.engine.Client(), c.owner.Namespace, helm.GeneratedSecretName(c.owner.Name), labels, nil, gen.Kept())
	}}
}

// keepingInventory is an inventory that keeps the generated values before
// its first Store, which the engine calls before it changes anything.
type keepingInventory struct {
	apply.Inventory
	keep *keepGenerated
}

func (i keepingInventory) Store(ctx context.Context, refs []apply.ObjRef) error {
	if err := i.keep.keep(ctx); err != nil {
		return err
	}
	return i.Inventory.Store(ctx, refs)
}
