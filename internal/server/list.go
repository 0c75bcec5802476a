package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// Listing thousands of Applications for every page view is the server's
// hot path. Two things keep it fast: each list is decoded into only the
// fields the overview shows (managed fields, annotations and inventories
// are skipped, not allocated), and namespaces are listed in parallel, so
// the API server encodes and we decode on every core.

// maxParallelNamespaces is the namespace count up to which lists go
// namespace by namespace, in parallel, even for a user who may list
// cluster-wide; above it, one cluster-wide list is cheaper.
const maxParallelNamespaces = 200

// summary is the part of an Application the lists use.
type summary struct {
	Metadata struct {
		Name            string `json:"name"`
		Namespace       string `json:"namespace"`
		ResourceVersion string `json:"resourceVersion"`
	} `json:"metadata"`
	Spec   v1alpha1.ApplicationSpec `json:"spec"`
	Status struct {
		Conditions             []metav1.Condition        `json:"conditions"`
		LastAppliedRevision    string                    `json:"lastAppliedRevision"`
		LastAttemptedRevision  string                    `json:"lastAttemptedRevision"`
		Resources              []v1alpha1.ResourceStatus `json:"resources"`
		History                []v1alpha1.SyncResult     `json:"history"`
		Inventory              []struct{}                `json:"inventory"`
		LastHandledReconcileAt string                    `json:"lastHandledReconcileAt"`
	} `json:"status"`
}

func (sm *summary) application() apiv1.Application {
	a := &v1alpha1.Application{Spec: sm.Spec}
	a.Name, a.Namespace, a.ResourceVersion = sm.Metadata.Name, sm.Metadata.Namespace, sm.Metadata.ResourceVersion
	st := &sm.Status
	a.Status = v1alpha1.ApplicationStatus{Conditions: st.Conditions, LastAppliedRevision: st.LastAppliedRevision,
		LastAttemptedRevision: st.LastAttemptedRevision, Resources: st.Resources, History: st.History,
		LastHandledReconcileAt: st.LastHandledReconcileAt}
	out := toApplication(a)
	if len(st.Resources) == 0 {
		out.ResourceCount = len(st.Inventory)
	}
	return out
}

// listSummaries lists the Applications of one namespace ("" for all) as
// the user, with an impersonating HTTP client.
func (s *Server) listSummaries(ctx context.Context, hc *http.Client, ns string) ([]apiv1.Application, error) {
	path := "/apis/" + v1alpha1.GroupVersion.Group + "/" + v1alpha1.GroupVersion.Version + "/applications"
	if ns != "" {
		path = "/apis/" + v1alpha1.GroupVersion.Group + "/" + v1alpha1.GroupVersion.Version + "/namespaces/" + url.PathEscape(ns) + "/applications"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(s.kube.base.Host, "/")+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("list applications: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		st := metav1.Status{}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(raw, &st) != nil || st.Code == 0 {
			st = metav1.Status{Status: metav1.StatusFailure, Code: int32(resp.StatusCode), Message: strings.TrimSpace(string(raw)),
				Reason: metav1.StatusReasonUnknown}
		}
		return nil, &apierrors.StatusError{ErrStatus: st}
	}
	out, err := decodeSummaries(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("decode applications list: %w", err)
	}
	return out, nil
}

// decodeSummaries streams a list's items one by one: decoding the whole
// list at once would buffer every byte of it first.
func decodeSummaries(r io.Reader) ([]apiv1.Application, error) {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	var out []apiv1.Application
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if key != "items" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
			continue
		}
		if err := expectDelim(dec, '['); err != nil {
			return nil, err
		}
		for dec.More() {
			var sm summary
			if err := dec.Decode(&sm); err != nil {
				return nil, err
			}
			out = append(out, sm.application())
		}
		if err := expectDelim(dec, ']'); err != nil {
			return nil, err
		}
	}
	return out, expectDelim(dec, '}')
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, got %v", want, t)
	}
	return nil
}

// readableApplications lists every Application the user may read: in
// parallel per namespace (skipping namespaces RBAC refuses, so a user
// never learns other tenants' names), or cluster-wide when there are many
// namespaces and the user may.
func (s *Server) readableApplications(ctx context.Context, namespace string) ([]apiv1.Application, error) {
	hc, err := s.kube.httpFor(identityFrom(ctx))
	if err != nil {
		return nil, err
	}
	if namespace != "" {
		return s.listSummaries(ctx, hc, namespace)
	}
	nss, err := s.namespaceNames(ctx)
	if err != nil {
		return nil, err
	}
	if len(nss) > maxParallelNamespaces {
		all, err := s.listSummaries(ctx, hc, "")
		if !apierrors.IsForbidden(err) {
			return all, err
		}
	}
	var (
		mu  sync.Mutex
		all []apiv1.Application
	)
	err = eachNamespace(nss, func(ns string) error {
		apps, err := s.listSummaries(ctx, hc, ns)
		if err != nil {
			return err
		}
		mu.Lock()
		all = append(all, apps...)
		mu.Unlock()
		return nil
	})
	return all, err
}
