package server

import (
	"context"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/pipeline"
	"github.com/cruisegitops/cruise/internal/render"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// diff renders the application's source at the branch's current head and
// compares it with the cluster by server-side dry-run, as the user: what a
// sync would change now. A user who may only read gets Kubernetes' 403,
// since a dry-run needs the rights of the write it simulates.
func (s *Server) diff(ctx context.Context, app *v1alpha1.Application) (*apiv1.Diff, error) {
	id := identityFrom(ctx)
	c, err := s.kube.forIdentity(id)
	if err != nil {
		return nil, err
	}
	rendered, revision, err := s.renderApp(ctx, id, c, app)
	if err != nil {
		return nil, err
	}
	eng, err := s.kube.engineFor(id)
	if err != nil {
		return nil, err
	}
	diffs, err := eng.Diff(ctx, rendered, pipeline.TargetOf(app).DiffOptions(recordedInventory(app.Status.Inventory)))
	if err != nil {
		if ke := fromKube(err, "diff of "+app.Namespace+"/"+app.Name); ke.status != http.StatusInternalServerError {
			return nil, ke
		}
		return nil, newError(http.StatusUnprocessableEntity, apiv1.CodeBadRequest, "diff %s/%s at %s: %v", app.Namespace, app.Name, revision, err)
	}
	out := &apiv1.Diff{Revision: revision, Changes: []apiv1.DiffChange{}}
	for _, d := range diffs {
		if !d.Drifted() {
			continue
		}
		out.Changes = append(out.Changes, apiv1.DiffChange{Kind: d.Ref.Kind, Namespace: d.Ref.Namespace, Name: d.Ref.Name,
			Action: actionWord(d.Action), Patch: d.Diff})
	}
	return out, nil
}

// decryption reads the keys of spec.decryption as the user: whoever may
// read the Secret could decrypt the files anyway, and whoever may not gets
// Kubernetes' 403. The diff masks every decrypted value.
func (s *Server) decryption(ctx context.Context, c client.Client, app *v1alpha1.Application) (*render.Decryption, error) {
	key, ok, err := pipeline.DecryptionSecret(app)
	if err != nil {
		return nil, newError(http.StatusUnprocessableEntity, apiv1.CodeBadRequest, "%v", err)
	}
	if !ok {
		return nil, nil
	}
	secret := &corev1.Secret{}
	if err := c.Get(ctx, key, secret); err != nil {
		return nil, fromKube(err, "decryption Secret "+key.String())
	}
	dec, err := pipeline.DecryptionKeys(secret)
	if err != nil {
		return nil, newError(http.StatusUnprocessableEntity, apiv1.CodeBadRequest, "%v", err)
	}
	return dec, nil
}

func actionWord(a apply.Action) string {
	switch a {
	case apply.Created:
		return "create"
	case apply.Pruned:
		return "prune"
	case apply.Unchanged:
		return "unchanged"
	}
	return "update"
}

// recordedInventory is the Application's inventory, read-only: a diff
// never stores one.
type recordedInventory []v1alpha1.ObjectRef

func (r recordedInventory) Load(context.Context) ([]apply.ObjRef, error) {
	out := make([]apply.ObjRef, len(r))
	for i, o := range r {
		out[i] = apply.ObjRef{Group: o.Group, Version: o.Version, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
	}
	return out, nil
}

func (r recordedInventory) Store(context.Context, []apply.ObjRef) error {
	return fmt.Errorf("a diff does not store an inventory")
}

func (s *Server) handleDiff(w http.ResponseWriter, r *http.Request) {
	app, err := s.getApplication(r.Context(), r.PathValue("ns"), r.PathValue("name"))
	if err != nil {
		writeError(w, err)
		return
	}
	d, err := s.diff(r.Context(), app)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}
