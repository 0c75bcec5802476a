package controller

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
)

// The per-object status metrics say, for each Application and
// GitRepository, what its Ready condition says, so that "not Ready for N
// minutes" is a PromQL expression over cruise's own metrics (no
// kube-state-metrics):
//
//	cruise_<kind>_ready{namespace,name}                    1 when Ready is True, else 0
//	cruise_<kind>_not_ready_since_seconds{namespace,name}  Unix time it stopped being Ready, 0 while Ready
//	cruise_<kind>_suspended{namespace,name}                1 when spec.suspend is set
//	cruise_<kind>_condition{namespace,name,type,status,reason}  1 per condition it has
//
// They are fed by the manager's informers, on the leader only (a standby
// exports none, so a sum over replicas counts each object once), and are
// collected from memory at scrape time: a deleted object's series are gone
// from the next scrape.
//
// "Not Ready since" survives the flips a failing object goes through on
// each retry (Ready False, then Unknown while the retry runs, then False
// again): it is kept from the first time the object was seen not Ready
// until it is Ready again. An object first seen not Ready (when the
// controller starts, or becomes leader) counts from its Ready condition's
// lastTransitionTime, or from its creation when it has none yet.

// statusKind is one kind whose status the metrics follow.
type statusKind struct {
	// metric is the kind in metric names: cruise_<metric>_ready.
	metric string
	// object is an empty object of the kind, for its informer.
	object client.Object
	// read returns the object's conditions and whether it is suspended;
	// ok is false for an object of another type.
	read func(obj any) (o client.Object, conds []metav1.Condition, suspended, ok bool)
}

// statusKinds are the kinds with per-object status metrics.
var statusKinds = []statusKind{
	{metric: "application", object: &cruisev1.Application{},
		read: func(obj any) (client.Object, []metav1.Condition, bool, bool) {
			a, ok := obj.(*cruisev1.Application)
			if !ok {
				return nil, nil, false, false
			}
			return a, a.Status.Conditions, a.Spec.Suspend, true
		}},
	{metric: "gitrepository", object: &cruisev1.GitRepository{},
		read: func(obj any) (client.Object, []metav1.Condition, bool, bool) {
			r, ok := obj.(*cruisev1.GitRepository)
			if !ok {
				return nil, nil, false, false
			}
			return r, r.Status.Conditions, r.Spec.Suspend, true
		}},
}

// objectStatus is what the metrics keep of one object.
type objectStatus struct {
	uid           types.UID
	ready         bool
	notReadySince time.Time // zero while ready
	suspended     bool
	conditions    []conditionLabels
}

type conditionLabels struct{ typ, status, reason string }

type statusDescs struct {
	ready, since, suspended, condition *prometheus.Desc
}

// statusMetrics is the collector of the per-object status metrics. It is
// safe for concurrent use.
type statusMetrics struct {
	descs []statusDescs // by index in statusKinds

	mu      sync.Mutex
	objects []map[types.NamespacedName]objectStatus // guarded by mu; by index in statusKinds
}

func newStatusMetrics() *statusMetrics {
	s := &statusMetrics{objects: make([]map[types.NamespacedName]objectStatus, len(statusKinds))}
	for i, k := range statusKinds {
		s.objects[i] = map[types.NamespacedName]objectStatus{}
		obj := []string{"namespace", "name"}
		s.descs = append(s.descs, statusDescs{
			ready: prometheus.NewDesc("cruise_"+k.metric+"_ready",
				fmt.Sprintf("1 when the %s's Ready condition is True, else 0.", k.metric), obj, nil),
			since: prometheus.NewDesc("cruise_"+k.metric+"_not_ready_since_seconds",
				fmt.Sprintf("Unix time since which the %s has not been Ready (kept across retries), 0 while it is Ready.", k.metric), obj, nil),
			suspended: prometheus.NewDesc("cruise_"+k.metric+"_suspended",
				fmt.Sprintf("1 when the %s is suspended (spec.suspend), else 0.", k.metric), obj, nil),
			condition: prometheus.NewDesc("cruise_"+k.metric+"_condition",
				fmt.Sprintf("1 for each condition the %s has, with its type, status and reason.", k.metric),
				[]string{"namespace", "name", "type", "status", "reason"}, nil),
		})
	}
	return s
}

// Describe implements prometheus.Collector.
func (s *statusMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range s.descs {
		ch <- d.ready
		ch <- d.since
		ch <- d.suspended
		ch <- d.condition
	}
}

// Collect implements prometheus.Collector.
func (s *statusMetrics) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, objects := range s.objects {
		d := s.descs[i]
		for key, o := range objects {
			ready, since := 0.0, 0.0
			if o.ready {
				ready = 1
			} else {
				since = float64(o.notReadySince.Unix())
			}
			suspended := 0.0
			if o.suspended {
				suspended = 1
			}
			ch <- prometheus.MustNewConstMetric(d.ready, prometheus.GaugeValue, ready, key.Namespace, key.Name)
			ch <- prometheus.MustNewConstMetric(d.since, prometheus.GaugeValue, since, key.Namespace, key.Name)
			ch <- prometheus.MustNewConstMetric(d.suspended, prometheus.GaugeValue, suspended, key.Namespace, key.Name)
			for _, c := range o.conditions {
				ch <- prometheus.MustNewConstMetric(d.condition, prometheus.GaugeValue, 1,
					key.Namespace, key.Name, c.typ, c.status, c.reason)
			}
		}
	}
}

// observe records the state of an object of statusKinds[kind] as added or
// updated in the cache.
func (s *statusMetrics) observe(kind int, obj client.Object, conds []metav1.Condition, suspended bool) {
	key := client.ObjectKeyFromObject(obj)
	o := objectStatus{uid: obj.GetUID(), suspended: suspended}
	ready := meta.FindStatusCondition(conds, cruisev1.ConditionReady)
	o.ready = ready != nil && ready.Status == metav1.ConditionTrue
	for _, c := range conds {
		o.conditions = append(o.conditions, conditionLabels{typ: c.Type, status: string(c.Status), reason: c.Reason})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, seen := s.objects[kind][key]
	switch {
	case o.ready:
	case seen && prev.uid == o.uid && !prev.ready:
		o.notReadySince = prev.notReadySince
	case ready != nil:
		o.notReadySince = ready.LastTransitionTime.Time
	default:
		o.notReadySince = obj.GetCreationTimestamp().Time
	}
	s.objects[kind][key] = o
}

// forget drops a deleted object of statusKinds[kind].
func (s *statusMetrics) forget(kind int, key types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objects[kind], key)
}

// reset drops every object: the replica stopped leading.
func (s *statusMetrics) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.objects {
		s.objects[i] = map[types.NamespacedName]objectStatus{}
	}
}

// statusWatcher feeds statusMetrics from the manager's informers while
// this replica leads.
type statusWatcher struct {
	informers cache.Informers
	metrics   *statusMetrics
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: a standby
// exports no per-object series.
func (w *statusWatcher) NeedLeaderElection() bool { return true }

// Start implements manager.Runnable.
func (w *statusWatcher) Start(ctx context.Context) error {
	defer w.metrics.reset()
	type registration struct {
		informer cache.Informer
		handle   toolscache.ResourceEventHandlerRegistration
	}
	var regs []registration
	defer func() {
		for _, r := range regs {
			_ = r.informer.RemoveEventHandler(r.handle)
		}
	}()
	for i, k := range statusKinds {
		inf, err := w.informers.GetInformer(ctx, k.object)
		if err != nil {
			return fmt.Errorf("status metrics: informer for %s: %w", k.metric, err)
		}
		h, err := inf.AddEventHandler(w.handler(i))
		if err != nil {
			return fmt.Errorf("status metrics: watch %s: %w", k.metric, err)
		}
		regs = append(regs, registration{inf, h})
	}
	<-ctx.Done()
	return nil
}

func (w *statusWatcher) handler(kind int) toolscache.ResourceEventHandler {
	k := statusKinds[kind]
	update := func(obj any) {
		if o, conds, suspended, ok := k.read(obj); ok {
			w.metrics.observe(kind, o, conds, suspended)
		}
	}
	return toolscache.ResourceEventHandlerFuncs{
		AddFunc:    update,
		UpdateFunc: func(_, obj any) { update(obj) },
		DeleteFunc: func(obj any) {
			if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if o, _, _, ok := k.read(obj); ok {
				w.metrics.forget(kind, client.ObjectKeyFromObject(o))
			}
		},
	}
}

// watchStatuses returns the runnable that feeds the per-object status
// metrics from informers; add it to the manager.
func (m *Metrics) watchStatuses(informers cache.Informers) *statusWatcher {
	s := newStatusMetrics() // records into nothing registered
	if m != nil && m.operator != nil {
		s = m.operator.status
	}
	return &statusWatcher{informers: informers, metrics: s}
}
