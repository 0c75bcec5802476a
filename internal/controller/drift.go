package controller

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/cruisegitops/cruise/internal/apply"
)

// driftWatcher watches the objects Applications manage, metadata only and
// filtered by cruise's owner label, and reports the owning Application
// when one of them changes in a way Git may not describe or disappears.
// It runs as a manager Runnable; informers for new kinds start on demand.
type driftWatcher struct {
	client  metadata.Interface
	mapper  meta.RESTMapper
	manager string // cruise's field manager: its own writes are not drift
	notify  func(app types.NamespacedName)
	metrics *Metrics

	mu        sync.Mutex
	ctx       context.Context                                           // guarded by mu; set by Start
	informers map[schema.GroupVersionResource]cache.SharedIndexInformer // guarded by mu
	pending   []schema.GroupVersionKind                                 // guarded by mu; kinds asked for before Start
	dirty     map[types.NamespacedName]bool                             // guarded by mu
}

func newDriftWatcher(c metadata.Interface, mapper meta.RESTMapper, manager string, m *Metrics, notify func(types.NamespacedName)) *driftWatcher {
	return &driftWatcher{
		client: c, mapper: mapper, manager: manager, notify: notify, metrics: m,
		informers: map[schema.GroupVersionResource]cache.SharedIndexInformer{},
		dirty:     map[types.NamespacedName]bool{},
	}
}

// Start implements manager.Runnable.
func (w *driftWatcher) Start(ctx context.Context) error {
	w.mu.Lock()
	w.ctx = ctx
	pending := w.pending
	w.pending = nil
	w.mu.Unlock()
	w.watch(pending)
	<-ctx.Done()
	return nil
}

// NeedLeaderElection: only the leader reconciles, so only it watches.
func (w *driftWatcher) NeedLeaderElection() bool { return true }

// watch makes sure the kinds are watched.
func (w *driftWatcher) watch(kinds []schema.GroupVersionKind) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ctx == nil {
		w.pending = append(w.pending, kinds...)
		return
	}
	for _, gvk := range kinds {
		m, err := w.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			continue // a kind that is gone cannot drift
		}
		if _, ok := w.informers[m.Resource]; ok {
			continue
		}
		inf := metadatainformer.NewFilteredMetadataInformer(w.client, m.Resource, metav1.NamespaceAll, 0,
			cache.Indexers{}, func(o *metav1.ListOptions) { o.LabelSelector = apply.LabelName }).Informer()
		_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			UpdateFunc: w.onUpdate,
			DeleteFunc: w.onDelete,
		})
		w.informers[m.Resource] = inf
		go inf.Run(w.ctx.Done())
		log.FromContext(w.ctx).V(1).Info("watching managed objects for drift", "resource", m.Resource.String())
	}
}

// takeDirty reports, once, whether drift was seen for app since the last call.
func (w *driftWatcher) takeDirty(app types.NamespacedName) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.dirty[app]
	delete(w.dirty, app)
	return d
}

func (w *driftWatcher) onUpdate(oldObj, newObj any) {
	o, ok1 := oldObj.(*metav1.PartialObjectMetadata)
	n, ok2 := newObj.(*metav1.PartialObjectMetadata)
	if !ok1 || !ok2 || !w.drifted(o, n) {
		return
	}
	w.report(n)
}

func (w *driftWatcher) onDelete(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if m, ok := obj.(*metav1.PartialObjectMetadata); ok {
		w.report(m)
	}
}

func (w *driftWatcher) report(obj *metav1.PartialObjectMetadata) {
	name, ns := obj.Labels[apply.LabelName], obj.Labels[apply.LabelNamespace]
	if name == "" || ns == "" {
		return
	}
	key := types.NamespacedName{Namespace: ns, Name: name}
	w.metrics.countChangeSeen()
	w.mu.Lock()
	w.dirty[key] = true
	w.mu.Unlock()
	w.notify(key)
}

// drifted decides whether an update may have moved the object away from
// Git. Status-only churn is not drift: for kinds with a generation, only a
// new generation, labels or annotations count; for kinds without one
// (ConfigMaps, Secrets) any change does. Changes cruise made itself are
// never drift.
func (w *driftWatcher) drifted(o, n *metav1.PartialObjectMetadata) bool {
	if o.ResourceVersion == n.ResourceVersion {
		return false // a resync
	}
	if n.DeletionTimestamp != nil && o.DeletionTimestamp == nil {
		return true
	}
	if n.Generation != 0 && n.Generation == o.Generation &&
		equality.Semantic.DeepEqual(o.Labels, n.Labels) && equality.Semantic.DeepEqual(o.Annotations, n.Annotations) {
		return false
	}
	return !onlyManagerChanged(o.ManagedFields, n.ManagedFields, w.manager)
}

// onlyManagerChanged reports whether every managed-fields entry that is
// new or different in after belongs to manager.
func onlyManagerChanged(before, after []metav1.ManagedFieldsEntry, manager string) bool {
	changed := 0
	for _, a := range after {
		same := false
		for _, b := range before {
			if equality.Semantic.DeepEqual(a, b) {
				same = true
				break
			}
		}
		if same {
			continue
		}
		changed++
		if a.Manager != manager {
			return false
		}
	}
	return changed > 0
}
