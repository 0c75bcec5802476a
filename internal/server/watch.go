package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// maxWatchNamespaces bounds the per-namespace watches one stream opens
// for a user who may not watch cluster-wide.
const maxWatchNamespaces = 256

// maxStreamAge ends every stream after a while. The API server checks
// RBAC when a watch starts, and the token was checked when the stream
// started: a client that reconnects (EventSource does by itself) is
// checked again, so a revoked RoleBinding or an expired token stops
// updates within this time.
const maxStreamAge = 5 * time.Minute

// handleWatch streams Application changes as Server-Sent Events, read
// with an impersonated watch: Kubernetes decides what the user sees.
func (s *Server) handleWatch(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	ns, name := r.URL.Query().Get("namespace"), r.URL.Query().Get("name")
	if name != "" && ns == "" {
		writeError(w, newError(http.StatusBadRequest, apiv1.CodeBadRequest, "name needs namespace"))
		return
	}
	c, err := s.kube.forIdentity(identityFrom(ctx))
	if err != nil {
		writeError(w, err)
		return
	}
	events := make(chan watch.Event)
	var wg sync.WaitGroup
	start := func(namespace string) error {
		wi, err := s.startWatch(ctx, c, namespace, name)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer wi.Stop()
			for {
				select {
				case ev, ok := <-wi.ResultChan():
					if !ok {
						cancel() // the stream ends; the browser reconnects
						return
					}
					select {
					case events <- ev:
					case <-ctx.Done():
						return
					}
				case <-ctx.Done():
					return
				}
			}
		}()
		return nil
	}
	err = start(ns)
	if apierrors.IsForbidden(err) && ns == "" {
		err = nil
		nss, nerr := s.namespaceNames(ctx)
		if nerr != nil {
			writeError(w, fromKube(nerr, "watch applications"))
			return
		}
		opened := 0
		for _, n := range nss {
			if opened == maxWatchNamespaces {
				break
			}
			if werr := start(n); werr == nil {
				opened++
			} else if !apierrors.IsForbidden(werr) {
				err = werr
				break
			}
		}
	}
	if err != nil {
		cancel()
		wg.Wait()
		writeError(w, fromKube(err, "watch applications"))
		return
	}

	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n: connected\n\n")
	_ = rc.Flush()
	heartbeat := time.NewTicker(25 * time.Second)
	defer heartbeat.Stop()
	expire := time.NewTimer(maxStreamAge)
	defer expire.Stop()
	defer wg.Wait()
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return
		case <-expire.C:
			return
		case <-heartbeat.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case ev := <-events:
			app, ok := ev.Object.(*v1alpha1.Application)
			if !ok {
				continue // a watch error (e.g. resource version too old): the browser reconnects
			}
			data, err := json.Marshal(apiv1.WatchEvent{Type: string(ev.Type), Application: toApplication(app)})
			if err != nil {
				return
			}
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.Type, data)
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// startWatch watches from now: a one-item list gives the current resource
// version, so the stream starts without replaying every Application.
func (s *Server) startWatch(ctx context.Context, c client.WithWatch, ns, name string) (watch.Interface, error) {
	opts := []client.ListOption{}
	if ns != "" {
		opts = append(opts, client.InNamespace(ns))
	}
	if name != "" {
		opts = append(opts, client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", name)})
	}
	list := &v1alpha1.ApplicationList{}
	if err := c.List(ctx, list, append(opts, client.Limit(1))...); err != nil {
		return nil, err
	}
	return c.Watch(ctx, &v1alpha1.ApplicationList{}, append(opts, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: list.ResourceVersion}})...)
}
