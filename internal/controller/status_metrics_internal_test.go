package controller

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
)

func application(name string, uid types.UID, conds ...metav1.Condition) *cruisev1.Application {
	return &cruisev1.Application{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: name, UID: uid,
			CreationTimestamp: metav1.NewTime(time.Unix(1000, 0))},
		Status: cruisev1.ApplicationStatus{Conditions: conds},
	}
}

func readyCond(status metav1.ConditionStatus, reason string, at int64) metav1.Condition {
	return metav1.Condition{Type: cruisev1.ConditionReady, Status: status, Reason: reason, LastTransitionTime: metav1.NewTime(time.Unix(at, 0))}
}

// TestNotReadySince: the time an object stopped being Ready, as the
// informer events of its status show it.
func TestNotReadySince(t *testing.T) {
	for _, tc := range []struct {
		name   string
		events []*cruisev1.Application
		want   int64 // Unix seconds; 0: Ready
	}{
		{"no Ready condition yet: since creation",
			[]*cruisev1.Application{application("web", "1")}, 1000},
		{"first seen failing: since the condition's transition",
			[]*cruisev1.Application{application("web", "1", readyCond(metav1.ConditionFalse, "ApplyFailed", 2000))}, 2000},
		{"retries flip Ready to Unknown and back: the first failure stays",
			[]*cruisev1.Application{
				application("web", "1", readyCond(metav1.ConditionTrue, "Succeeded", 1500)),
				application("web", "1", readyCond(metav1.ConditionFalse, "ApplyFailed", 2000)),
				application("web", "1", readyCond(metav1.ConditionUnknown, "Progressing", 2010)),
				application("web", "1", readyCond(metav1.ConditionFalse, "ApplyFailed", 2011)),
			}, 2000},
		{"healed", []*cruisev1.Application{
			application("web", "1", readyCond(metav1.ConditionFalse, "ApplyFailed", 2000)),
			application("web", "1", readyCond(metav1.ConditionTrue, "Succeeded", 2100)),
		}, 0},
		{"failing again after healing: a new start", []*cruisev1.Application{
			application("web", "1", readyCond(metav1.ConditionFalse, "ApplyFailed", 2000)),
			application("web", "1", readyCond(metav1.ConditionTrue, "Succeeded", 2100)),
			application("web", "1", readyCond(metav1.ConditionUnknown, "Progressing", 2200)),
		}, 2200},
		{"deleted and created again under the same name: a new object", []*cruisev1.Application{
			application("web", "1", readyCond(metav1.ConditionFalse, "ApplyFailed", 2000)),
			application("web", "2", readyCond(metav1.ConditionFalse, "ApplyFailed", 3000)),
		}, 3000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStatusMetrics()
			for _, a := range tc.events {
				s.observe(0, a, a.Status.Conditions, false)
			}
			o := s.objects[0][types.NamespacedName{Namespace: "team-a", Name: "web"}]
			got := int64(0)
			if !o.ready {
				got = o.notReadySince.Unix()
			}
			if got != tc.want {
				t.Errorf("not Ready since %d, want %d", got, tc.want)
			}
		})
	}
}

// BenchmarkStatusMetricsScrape measures a scrape of the status metrics of
// 1,000 Applications (each Ready, Reconciling and Stalled conditions).
func BenchmarkStatusMetricsScrape(b *testing.B) {
	s := newStatusMetrics()
	for i := range 1000 {
		a := application(fmt.Sprintf("app-%04d", i), types.UID(fmt.Sprint(i)),
			readyCond(metav1.ConditionFalse, "ApplyFailed", 2000),
			metav1.Condition{Type: cruisev1.ConditionStalled, Status: metav1.ConditionTrue, Reason: "ApplyFailed"})
		s.observe(0, a, a.Status.Conditions, false)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(s)
	series := 0
	for b.Loop() {
		families, err := reg.Gather()
		if err != nil {
			b.Fatal(err)
		}
		series = 0
		for _, f := range families {
			series += len(f.GetMetric())
		}
	}
	b.ReportMetric(float64(series), "series/scrape")
}
