package controller

import (
	"context"
	"fmt"
	"reflect"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
)

// statusWriter sends an Application's status to the API server while a
// sync runs (progress) and when it ends (the outcome). Each write carries
// what changed since the previous one, so the outcome never leaves a
// progress message behind. It is used by one reconcile at a time.
type statusWriter struct {
	client client.Client
	sent   cruisev1.ApplicationStatus // as last written, or as read
	// quiet drops progress: the sync re-applies what is already deployed
	// (a drift correction, a resync), which is quick, so only its outcome
	// is written. Each progress write is an API round trip, and turning
	// Ready Unknown would wake every dependent for nothing.
	quiet bool
}

func newStatusWriter(c client.Client, app *cruisev1.Application) *statusWriter {
	return &statusWriter{client: c, sent: *app.Status.DeepCopy()}
}

// write patches the status if it changed since the last write. app
// receives the server's answer.
func (w *statusWriter) write(ctx context.Context, app *cruisev1.Application) error {
	if equality.Semantic.DeepEqual(w.sent, app.Status) {
		return nil
	}
	base := app.DeepCopy()
	base.Status = *w.sent.DeepCopy()
	if err := w.client.Status().Patch(ctx, app, client.MergeFrom(base)); err != nil {
		return fmt.Errorf("write status of Application %s/%s: %w", app.Namespace, app.Name, err)
	}
	w.sent = *app.Status.DeepCopy()
	return nil
}

// progress says, at once, that a sync is under way and how far it got
// (see markReconciling).
func (w *statusWriter) progress(ctx context.Context, app *cruisev1.Application, msg string) error {
	if w.quiet {
		return nil
	}
	markReconciling(&app.Status.Conditions, app.Generation, msg)
	return w.write(ctx, app)
}

// progressLater is progress for the phase boundaries inside a sync. A
// failed write does not stop the sync: the outcome written when it ends
// supersedes the message, and a failure to write that one is returned.
func (w *statusWriter) progressLater(ctx context.Context, app *cruisev1.Application, msg string) {
	if err := w.progress(ctx, app, msg); err != nil {
		log.FromContext(ctx).V(1).Info("progress not written; the outcome will be", "message", msg, "error", err.Error())
	}
}

// patchStatusLater snapshots obj at the start of a reconcile; the
// function it returns merge-patches obj's status when the reconcile
// changed it (reconcilers change nothing else). An object deleted in the
// meantime is no error.
func patchStatusLater(ctx context.Context, c client.Client, obj client.Object) func() error {
	before := obj.DeepCopyObject().(client.Object)
	return func() error {
		if equality.Semantic.DeepEqual(before, obj) {
			return nil
		}
		if err := c.Status().Patch(ctx, obj, client.MergeFrom(before)); err != nil && !apierrors.IsNotFound(err) {
			kind := reflect.TypeOf(obj).Elem().Name()
			return fmt.Errorf("patch status of %s %s: %w", kind, client.ObjectKeyFromObject(obj), err)
		}
		return nil
	}
}

// readLive reads the object a reconcile is for. When it is gone, or being
// deleted, forget drops what the process holds of it and readLive reports
// false: there is nothing to reconcile.
func readLive(ctx context.Context, c client.Reader, key types.NamespacedName, obj client.Object, forget func(types.NamespacedName)) (bool, error) {
	if err := c.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			forget(key)
			return false, nil
		}
		return false, err
	}
	if !obj.GetDeletionTimestamp().IsZero() {
		forget(key)
		return false, nil
	}
	return true, nil
}
