package apply

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// inventoryKey is the ConfigMap data key holding the JSON list of refs.
const inventoryKey = "inventory.json"

// ConfigMapInventory keeps an inventory in the ConfigMap
// "cruise-inventory-<name>" in a namespace, for the command line.
type ConfigMapInventory struct {
	engine    *Engine
	namespace string
	name      string
}

// NewConfigMapInventory returns the inventory called name, stored in
// namespace.
func (e *Engine) NewConfigMapInventory(namespace, name string) *ConfigMapInventory {
	return &ConfigMapInventory{engine: e, namespace: namespace, name: name}
}

func (i *ConfigMapInventory) key() client.ObjectKey {
	return client.ObjectKey{Namespace: i.namespace, Name: "cruise-inventory-" + i.name}
}

// Load implements Inventory.
func (i *ConfigMapInventory) Load(ctx context.Context) ([]ObjRef, error) {
	cm := &corev1.ConfigMap{}
	err := i.engine.client.Get(ctx, i.key(), cm)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read inventory ConfigMap/%s/%s: %w", i.key().Namespace, i.key().Name, err)
	}
	var refs []ObjRef
	if data := cm.Data[inventoryKey]; data != "" {
		if err := json.Unmarshal([]byte(data), &refs); err != nil {
			return nil, fmt.Errorf("inventory ConfigMap/%s/%s is corrupt: %w", i.key().Namespace, i.key().Name, err)
		}
	}
	return refs, nil
}

// Store implements Inventory. The refs are sorted so that an unchanged set
// writes an identical ConfigMap, which the API server does not persist.
func (i *ConfigMapInventory) Store(ctx context.Context, refs []ObjRef) error {
	sorted := append([]ObjRef(nil), refs...)
	sort.Slice(sorted, func(a, b int) bool { return sorted[a].Key() < sorted[b].Key() })
	data, err := json.Marshal(sorted)
	if err != nil {
		return fmt.Errorf("encode inventory: %w", err)
	}
	cm := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata": map[string]any{
			"name":      i.key().Name,
			"namespace": i.namespace,
			"labels":    map[string]any{"app.kubernetes.io/managed-by": "cruise", LabelName: i.name},
		},
		"data": map[string]any{inventoryKey: string(data)},
	}}
	err = i.engine.serverSideApply(ctx, cm, false)
	if err != nil {
		return fmt.Errorf("write inventory ConfigMap/%s/%s: %w", i.key().Namespace, i.key().Name, err)
	}
	return nil
}
