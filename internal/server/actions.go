package server

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// patchApplication merge-patches an Application as the user, so that
// Kubernetes checks their right to update it.
func (s *Server) patchApplication(ctx context.Context, ns, name string, patch map[string]any) error {
	c, err := s.kube.forIdentity(identityFrom(ctx))
	if err != nil {
		return err
	}
	raw, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	app := &v1alpha1.Application{}
	app.Namespace, app.Name = ns, name
	if err := c.Patch(ctx, app, client.RawPatch(types.MergePatchType, raw)); err != nil {
		return fromKube(err, "application "+ns+"/"+name)
	}
	return nil
}

// requestSync asks the operator to reconcile now, as `cruise reconcile`
// does: the annotation's new value is the request.
func (s *Server) requestSync(ctx context.Context, ns, name string) (string, error) {
	metadata, at := v1alpha1.ReconcileRequest(time.Now())
	err := s.patchApplication(ctx, ns, name, map[string]any{"metadata": metadata})
	return at, err
}

// setSuspend suspends or resumes; resuming also asks for a reconcile now,
// as `cruise resume` does, rather than waiting for the next interval.
func (s *Server) setSuspend(ctx context.Context, ns, name string, suspend bool) error {
	patch := map[string]any{"spec": map[string]any{"suspend": suspend}}
	if !suspend {
		patch["metadata"], _ = v1alpha1.ReconcileRequest(time.Now())
	}
	return s.patchApplication(ctx, ns, name, patch)
}

func (s *Server) handleSync(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("ns"), r.PathValue("name")
	at, err := s.requestSync(r.Context(), ns, name)
	if err != nil {
		writeError(w, err)
		return
	}
	s.audit(r.Context(), "sync", ns, name)
	writeJSON(w, http.StatusOK, apiv1.ActionResult{Application: ns + "/" + name, Action: "sync", RequestedAt: at})
}

func (s *Server) handleSuspend(w http.ResponseWriter, r *http.Request) { s.suspendResume(w, r, true) }
func (s *Server) handleResume(w http.ResponseWriter, r *http.Request)  { s.suspendResume(w, r, false) }

func (s *Server) suspendResume(w http.ResponseWriter, r *http.Request, suspend bool) {
	ns, name := r.PathValue("ns"), r.PathValue("name")
	action := map[bool]string{true: "suspend", false: "resume"}[suspend]
	if err := s.setSuspend(r.Context(), ns, name, suspend); err != nil {
		writeError(w, err)
		return
	}
	s.audit(r.Context(), action, ns, name)
	writeJSON(w, http.StatusOK, apiv1.ActionResult{Application: ns + "/" + name, Action: action})
}

// audit logs who did what; the Git log and Kubernetes' audit log are the
// records, this is for the operator of the server.
func (s *Server) audit(ctx context.Context, action, ns, name string, args ...any) {
	id := identityFrom(ctx)
	s.log.Info("action", append([]any{"action", action, "application", ns + "/" + name, "user", id.User}, args...)...)
}

// listEvents returns the Events about an Application, newest first.
func (s *Server) listEvents(ctx context.Context, ns, name string) ([]apiv1.Event, error) {
	c, err := s.kube.forIdentity(identityFrom(ctx))
	if err != nil {
		return nil, err
	}
	list := &corev1.EventList{}
	if err := c.List(ctx, list, client.InNamespace(ns), client.MatchingFields{
		"involvedObject.kind": v1alpha1.ApplicationKind, "involvedObject.name": name}); err != nil {
		return nil, fromKube(err, "events of application "+ns+"/"+name)
	}
	out := make([]apiv1.Event, 0, len(list.Items))
	for _, e := range list.Items {
		n := e.Count
		if e.Series != nil && e.Series.Count > 0 {
			n = e.Series.Count
		}
		out = append(out, apiv1.Event{Type: e.Type, Reason: e.Reason, Message: e.Message, Count: max(n, 1), Time: eventTime(e)})
	}
	slices.SortStableFunc(out, func(a, b apiv1.Event) int { return cmp.Compare(b.Time.UnixNano(), a.Time.UnixNano()) })
	if len(out) > 100 {
		out = out[:100]
	}
	return out, nil
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.UTC()
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.UTC()
	case !e.EventTime.IsZero():
		return e.EventTime.UTC()
	}
	return e.CreationTimestamp.UTC()
}

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("ns"), r.PathValue("name")
	// Reading the Application first makes a user who may list Events but
	// not read this Application get its 403/404, not its events.
	if _, err := s.getApplication(r.Context(), ns, name); err != nil {
		writeError(w, err)
		return
	}
	events, err := s.listEvents(r.Context(), ns, name)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, apiv1.EventList{Items: events})
}
