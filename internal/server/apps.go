package server

import (
	"cmp"
	"context"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// Filters select applications in lists.
type Filters struct {
	Namespace, Sync, Health, Query string
}

func filtersFrom(r *http.Request) Filters {
	q := r.URL.Query()
	return Filters{Namespace: q.Get("namespace"), Sync: q.Get("sync"), Health: q.Get("health"), Query: strings.TrimSpace(q.Get("q"))}
}

func (f Filters) match(a *apiv1.Application) bool {
	switch {
	case f.Sync != "" && a.Sync != f.Sync:
		return false
	case f.Health != "" && a.Health != f.Health:
		return false
	case f.Query != "":
		q := strings.ToLower(f.Query)
		return strings.Contains(strings.ToLower(a.Name), q) || strings.Contains(strings.ToLower(a.Namespace), q) ||
			strings.Contains(strings.ToLower(a.Source.Name), q) || strings.Contains(strings.ToLower(a.Path), q)
	}
	return true
}

// readableList lists objects of list's kind the user may read: the whole
// cluster when RBAC allows it, otherwise namespace by namespace, skipping
// the ones RBAC refuses, so a user never learns another tenant's names.
// each is called once per list read, never concurrently.
func (s *Server) readableList(ctx context.Context, namespace string, newList func() client.ObjectList, each func(client.ObjectList)) error {
	c, err := s.kube.forIdentity(identityFrom(ctx))
	if err != nil {
		return err
	}
	list := newList()
	var opts []client.ListOption
	if namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	err = c.List(ctx, list, opts...)
	if err == nil {
		each(list)
		return nil
	}
	if !apierrors.IsForbidden(err) || namespace != "" {
		return err
	}
	nss, err := s.namespaceNames(ctx)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	return eachNamespace(nss, func(ns string) error {
		l := newList()
		if err := c.List(ctx, l, client.InNamespace(ns)); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		each(l)
		return nil
	})
}

// eachNamespace calls read for every namespace of nss, 8 at a time, and
// ignores the namespaces where RBAC refuses the user (or that are gone).
// It returns the first other error.
func eachNamespace(nss []string, read func(ns string) error) error {
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, 8)
	)
	for _, ns := range nss {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := read(ns)
			if err == nil || apierrors.IsForbidden(err) || apierrors.IsNotFound(err) {
				return
			}
			mu.Lock()
			if firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return firstErr
}

// namespaceNames lists Namespace names with the server's own identity:
// the only read it makes for itself, and its result is never shown, only
// used to ask Kubernetes, as the user, namespace by namespace.
func (s *Server) namespaceNames(ctx context.Context) ([]string, error) {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(metav1.SchemeGroupVersion.WithKind("NamespaceList"))
	list.APIVersion, list.Kind = "v1", "NamespaceList"
	if err := s.kube.self.List(ctx, list); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(list.Items))
	for _, n := range list.Items {
		out = append(out, n.Name)
	}
	return out, nil
}

// listApplications returns the user's applications matching f, sorted by
// namespace and name.
func (s *Server) listApplications(ctx context.Context, f Filters) ([]apiv1.Application, map[string]int, error) {
	all, err := s.readableApplications(ctx, f.Namespace)
	if err != nil {
		return nil, nil, fromKube(err, "list applications")
	}
	counts := map[string]int{}
	out := all[:0]
	for i := range all {
		if f.match(&all[i]) {
			out = append(out, all[i])
			counts[all[i].Sync]++
			counts[all[i].Health]++
		}
	}
	slices.SortFunc(out, func(a, b apiv1.Application) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out, counts, nil
}

// page cuts items after the continue token (the last key of the previous
// page) to at most limit.
func page(items []apiv1.Application, cont string, limit int) ([]apiv1.Application, string, error) {
	start := 0
	if cont != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cont)
		if err != nil {
			return nil, "", newError(http.StatusBadRequest, apiv1.CodeBadRequest, "malformed continue token")
		}
		last := string(raw)
		start, _ = slices.BinarySearchFunc(items, last, func(a apiv1.Application, key string) int {
			return cmp.Compare(a.Namespace+"/"+a.Name, key)
		})
		if start < len(items) && items[start].Namespace+"/"+items[start].Name == last {
			start++
		}
	}
	end := min(start+limit, len(items))
	next := ""
	if end < len(items) {
		next = base64.RawURLEncoding.EncodeToString([]byte(items[end-1].Namespace + "/" + items[end-1].Name))
	}
	return items[start:end], next, nil
}

const (
	defaultLimit = 500
	maxLimit     = 10000
)

func limitFrom(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n > maxLimit {
		return 0, newError(http.StatusBadRequest, apiv1.CodeBadRequest, "limit %q: want 1 to %d", v, maxLimit)
	}
	return n, nil
}

func (s *Server) handleListApplications(w http.ResponseWriter, r *http.Request) {
	limit, err := limitFrom(r)
	if err != nil {
		writeError(w, err)
		return
	}
	apps, counts, err := s.listApplications(r.Context(), filtersFrom(r))
	if err != nil {
		writeError(w, err)
		return
	}
	items, next, err := page(apps, r.URL.Query().Get("continue"), limit)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, apiv1.ApplicationList{Items: items, Total: len(apps), Counts: counts, Continue: next})
}

// getApplication reads one Application as the user.
func (s *Server) getApplication(ctx context.Context, ns, name string) (*v1alpha1.Application, error) {
	c, err := s.kube.forIdentity(identityFrom(ctx))
	if err != nil {
		return nil, err
	}
	app := &v1alpha1.Application{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, app); err != nil {
		return nil, fromKube(err, "application "+ns+"/"+name)
	}
	return app, nil
}

func (s *Server) handleGetApplication(w http.ResponseWriter, r *http.Request) {
	app, err := s.getApplication(r.Context(), r.PathValue("ns"), r.PathValue("name"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, toApplication(app))
}

func (s *Server) handleHistory(w http.ResponseWriter, r *http.Request) {
	app, err := s.getApplication(r.Context(), r.PathValue("ns"), r.PathValue("name"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, apiv1.History{Items: toHistory(app)})
}

func (s *Server) handleListSources(w http.ResponseWriter, r *http.Request) {
	var out []apiv1.Source
	err := s.readableList(r.Context(), r.URL.Query().Get("namespace"), func() client.ObjectList { return &v1alpha1.GitRepositoryList{} }, func(l client.ObjectList) {
		for i := range l.(*v1alpha1.GitRepositoryList).Items {
			out = append(out, toSource(&l.(*v1alpha1.GitRepositoryList).Items[i]))
		}
	})
	if err != nil {
		writeError(w, fromKube(err, "list sources"))
		return
	}
	slices.SortFunc(out, func(a, b apiv1.Source) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	if out == nil {
		out = []apiv1.Source{}
	}
	writeJSON(w, http.StatusOK, apiv1.SourceList{Items: out})
}

func (s *Server) handleGetSource(w http.ResponseWriter, r *http.Request) {
	c, err := s.kube.forIdentity(identityFrom(r.Context()))
	if err != nil {
		writeError(w, err)
		return
	}
	ns, name := r.PathValue("ns"), r.PathValue("name")
	g := &v1alpha1.GitRepository{}
	if err := c.Get(r.Context(), client.ObjectKey{Namespace: ns, Name: name}, g); err != nil {
		writeError(w, fromKube(err, "source "+ns+"/"+name))
		return
	}
	writeJSON(w, http.StatusOK, toSource(g))
}

func (s *Server) handleWhoami(w http.ResponseWriter, r *http.Request) {
	id := identityFrom(r.Context())
	writeJSON(w, http.StatusOK, apiv1.Whoami{User: id.User, Groups: id.Groups})
}

func (s *Server) handleAuthConfig(w http.ResponseWriter, _ *http.Request) {
	a := s.opts.Auth
	writeJSON(w, http.StatusOK, apiv1.AuthConfig{Issuer: a.Issuer, ClientID: a.CLIClientID, Scopes: a.Scopes})
}
