package cli

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/helm"
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
		dc, err := discovery.NewDiscoveryClientForConfig(c.config)
		if err != nil {
			return nil, fmt.Errorf("discovery client for %s: %w", c.config.Host, err)
		}
		caps, err := helm.Discover(dc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.config.Host, err)
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
			KubeVersion: caps.KubeVersion,
			APIVersions: caps.APIVersions,
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
