package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
)

// GitRepositoryClient is what an [Annotator] needs of the Kubernetes API:
// list GitRepositories in every namespace and patch one. The controller's
// client.Client has both; its cache-backed List serves each push from
// memory.
type GitRepositoryClient interface {
	List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error
	Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error
}

// Annotator is the operator's [Trigger]. It asks for a fetch the way any
// tool does (`cruise reconcile`, the web UI, kubectl annotate): a merge
// patch setting the annotation cruise.dev/reconcile-at
// ([cruisev1.ReconcileRequestAnnotation]) on every GitRepository whose
// spec.url the push [Event.Matches], to the time of the push. The leader's
// GitRepository reconciler reacts to the annotation's change, so every
// replica can answer webhooks: the request goes through the API server,
// not through a process that may not be the leader. If no replica leads
// at that moment, the next leader's initial reconcile fetches anyway.
//
// A suspended GitRepository is annotated too, and counted; it records the
// request and fetches nothing until it is resumed.
type Annotator struct {
	// Client lists and patches GitRepositories; required.
	Client GitRepositoryClient
	// Now is the clock that dates the request; time.Now when nil.
	Now func() time.Time
}

// Trigger implements [Trigger]: it annotates every matching GitRepository
// and returns their "namespace/name", sorted. One failed patch does not
// stop the others; their errors are joined. A GitRepository deleted
// between the list and its patch is skipped.
func (a *Annotator) Trigger(ctx context.Context, ev Event) ([]string, error) {
	var list cruisev1.GitRepositoryList
	if err := a.Client.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("list GitRepositories: %w", err)
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	metadata, _ := cruisev1.ReconcileRequest(now())
	patch, err := json.Marshal(map[string]any{"metadata": metadata})
	if err != nil {
		return nil, fmt.Errorf("reconcile request patch: %w", err)
	}
	var requested []string
	var errs []error
	for i := range list.Items {
		repo := &list.Items[i]
		if !ev.Matches(repo.Spec.URL) {
			continue
		}
		key := repo.Namespace + "/" + repo.Name
		err := a.Client.Patch(ctx, repo, client.RawPatch(types.MergePatchType, patch))
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			errs = append(errs, fmt.Errorf("annotate GitRepository %s: %w", key, err))
		default:
			requested = append(requested, key)
		}
	}
	slices.Sort(requested)
	return requested, errors.Join(errs...)
}
