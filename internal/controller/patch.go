package controller

import (
	"encoding/json"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// mergeFrom is client.MergeFrom bound to one incarnation of the object:
// the patch carries base's metadata.uid, and the API server refuses it
// (422, uid is immutable) when the object by that name was deleted and
// created again. A reconcile that read a stale copy from the cache would
// otherwise write its status, or remove its finalizer, on the new object,
// which it never looked at.
func mergeFrom(base client.Object) client.Patch {
	return uidPatch{Patch: client.MergeFrom(base), uid: base.GetUID()}
}

type uidPatch struct {
	client.Patch
	uid types.UID
}

func (p uidPatch) Data(obj client.Object) ([]byte, error) {
	data, err := p.Patch.Data(obj)
	if err != nil || p.uid == "" {
		return data, err
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decode merge patch: %w", err)
	}
	meta, _ := doc["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["uid"] = string(p.uid)
	doc["metadata"] = meta
	return json.Marshal(doc)
}

// gone says a patch found no object, or a new object by the same name
// (see mergeFrom): either way the one the reconcile read is gone, and the
// new one has its own reconcile coming.
func gone(err error) bool {
	if apierrors.IsNotFound(err) {
		return true
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) || !apierrors.IsInvalid(err) {
		return false
	}
	details := status.Status().Details
	if details == nil {
		return false
	}
	for _, c := range details.Causes {
		if c.Field == "metadata.uid" {
			return true
		}
	}
	return false
}
