package controller

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/apply"
)

// statusInventory keeps an Application's inventory in its status. Store
// writes the status at once, before the engine changes anything, so a
// crash in the middle of a sync leaves every object it may have created
// recorded.
type statusInventory struct {
	client client.Client
	app    *cruisev1.Application
}

func (s *statusInventory) Load(context.Context) ([]apply.ObjRef, error) {
	refs := make([]apply.ObjRef, len(s.app.Status.Inventory))
	for i, r := range s.app.Status.Inventory {
		refs[i] = apply.ObjRef{Group: r.Group, Version: r.Version, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
	}
	return refs, nil
}

func (s *statusInventory) Store(ctx context.Context, refs []apply.ObjRef) error {
	// Patch a copy: the server's answer overwrites the object it is
	// decoded into, and the reconciler's own status changes are not sent
	// until the sync ends.
	obj := s.app.DeepCopy()
	base := obj.DeepCopy()
	obj.Status.Inventory = toObjectRefs(refs)
	if err := s.client.Status().Patch(ctx, obj, client.MergeFrom(base)); err != nil {
		return fmt.Errorf("record inventory of Application %s/%s: %w", s.app.Namespace, s.app.Name, err)
	}
	s.app.Status.Inventory = obj.Status.Inventory
	return nil
}

func toObjectRefs(refs []apply.ObjRef) []cruisev1.ObjectRef {
	out := make([]cruisev1.ObjectRef, len(refs))
	for i, r := range refs {
		out[i] = cruisev1.ObjectRef{Group: r.Group, Version: r.Version, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
	}
	return out
}
