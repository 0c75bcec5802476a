package controller

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/apply"
)

// finalize prunes what a deleted Application applied (unless prune is off
// or it is suspended) and lets it go.
//
// When the identity to prune with is gone (its ServiceAccount deleted, or
// the RoleBinding that let that ServiceAccount delete), no retry can
// succeed, and waiting would keep the Application, and a namespace being
// deleted around it, Terminating for ever. Then it lets go without
// pruning, says so in a Warning event and in its status, and the objects
// stay in the cluster.
func (r *ApplicationReconciler) finalize(ctx context.Context, app *cruisev1.Application, status *statusWriter) error {
	if !controllerutil.ContainsFinalizer(app, Finalizer) {
		return nil
	}
	if app.Spec.Prune && !app.Spec.Suspend && len(app.Status.Inventory) > 0 {
		var gone *identityGoneError
		release, err := r.deleteHooks(ctx, app)
		if err != nil {
			return err
		}
		err = r.pruneAll(ctx, app)
		if err == nil {
			err = release.after(ctx)
		}
		switch {
		case errors.As(err, &gone):
			msg := fmt.Sprintf("deleted without pruning: %v; its %d object(s) stay in the cluster", gone, len(app.Status.Inventory))
			r.Recorder.Eventf(app, nil, corev1.EventTypeWarning, cruisev1.ReasonPruneSkipped, "Delete", "%s", msg)
			set(&app.Status.Conditions, app.Generation, cruisev1.ConditionReady, metav1.ConditionFalse, cruisev1.ReasonPruneSkipped, msg)
			if err := status.write(ctx, app); err != nil {
				return transient(cruisev1.ReasonPruneSkipped, err)
			}
		case err != nil:
			return transient(cruisev1.ReasonPruneFailed, fmt.Errorf("prune on delete: %w", err))
		}
	}
	patch := mergeFrom(app.DeepCopy())
	controllerutil.RemoveFinalizer(app, Finalizer)
	if err := r.Client.Patch(ctx, app, patch); err != nil && !gone(err) {
		return transient(cruisev1.ReasonPruneFailed, fmt.Errorf("remove finalizer: %w", err))
	}
	return nil
}

// identityGoneError says an Application's ServiceAccount cannot act any
// more.
type identityGoneError struct {
	serviceAccount types.NamespacedName
	err            error // the API server's answer
}

func (e *identityGoneError) Error() string {
	if apierrors.IsNotFound(e.err) {
		return fmt.Sprintf("ServiceAccount %s no longer exists", e.serviceAccount)
	}
	return fmt.Sprintf("ServiceAccount %s may no longer delete what it applied (its RoleBinding is gone?): %v", e.serviceAccount, e.err)
}

func (e *identityGoneError) Unwrap() error { return e.err }

// pruneAll deletes every object of the inventory, as the Application's
// identity.
func (r *ApplicationReconciler) pruneAll(ctx context.Context, app *cruisev1.Application) error {
	sa := types.NamespacedName{Namespace: app.Namespace, Name: app.Spec.ServiceAccountName}
	if sa.Name != "" {
		// Uncached: watching every ServiceAccount for this would cost more
		// than the occasional read.
		err := r.APIReader.Get(ctx, sa, &corev1.ServiceAccount{})
		switch {
		case apierrors.IsNotFound(err):
			return &identityGoneError{serviceAccount: sa, err: err}
		case err != nil:
			return fmt.Errorf("read ServiceAccount %s: %w", sa, err)
		}
	}
	eng, err := r.engines.forServiceAccount(app.Namespace, app.Spec.ServiceAccountName)
	if err != nil {
		return err
	}
	_, err = eng.Apply(ctx, nil, apply.ApplyOptions{
		Owner:     apply.Owner{Name: app.Name, Namespace: app.Namespace},
		Inventory: &statusInventory{client: r.Client, app: app},
		Prune:     true,
	})
	if err != nil && sa.Name != "" && apierrors.IsForbidden(err) {
		return &identityGoneError{serviceAccount: sa, err: err}
	}
	return err
}
