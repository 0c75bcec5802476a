package controller_test

import (
	"fmt"
	"maps"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
)

// samples returns the value of every series of the family name whose
// labels include want, keyed by their full label set.
func samples(t testing.TB, name string, want map[string]string) map[string]float64 {
	t.Helper()
	families, err := metricsRegistry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			match := true
			for k, v := range want {
				match = match && labels[k] == v
			}
			if match {
				out[fmt.Sprint(labels)] = value(m)
			}
		}
	}
	return out
}

func value(m *dto.Metric) float64 {
	switch {
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	}
	return 0
}

// sample returns the one series of name with the given labels.
func sample(t testing.TB, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	s := samples(t, name, labels)
	if len(s) > 1 {
		t.Fatalf("%s%v matches %d series: %v", name, labels, len(s), s)
	}
	for _, v := range s {
		return v, true
	}
	return 0, false
}

// TestStatusMetrics: each Application and GitRepository has ready,
// not-ready-since, suspended and condition series that follow its Ready
// condition; "not Ready since" is kept across the retries of a failing
// Application and is 0 once it heals; failures are counted by kind and
// reason; a deleted object's series are gone.
func TestStatusMetrics(t *testing.T) {
	f := newFixture(t)
	first := f.commit("first", map[string]string{
		"app/a.yaml": cmYAML("a", "one"),
		"bad/b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: [\n",
	})
	f.source()
	f.sourceNamed("missing", func(s *cruisev1.GitRepositorySpec) {
		s.SecretRef = &cruisev1.LocalObjectReference{Name: "no-such-secret"}
	})
	failuresBefore := samples(t, "cruise_reconcile_failures_total", map[string]string{"kind": "Application", "reason": cruisev1.ReasonRenderFailed})
	f.app("web", "app", nil)
	f.app("broken", "bad", func(s *cruisev1.ApplicationSpec) {
		s.RetryInterval = &metav1.Duration{Duration: time.Second}
	})
	obj := func(name string) map[string]string { return map[string]string{"namespace": f.ns, "name": name} }
	with := func(m map[string]string, kv ...string) map[string]string {
		m = maps.Clone(m)
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	// wantSeries waits until series name of object has value v.
	wantSeries := func(name string, labels map[string]string, want func(float64) bool, what string) float64 {
		t.Helper()
		var got float64
		f.eventually(fmt.Sprintf("%s%v %s", name, labels, what), func() (bool, string) {
			v, ok := sample(t, name, labels)
			got = v
			if !ok {
				return false, "no series"
			}
			return want(v), fmt.Sprint(v)
		})
		return got
	}
	is := func(want float64) func(float64) bool { return func(v float64) bool { return v == want } }
	positive := func(v float64) bool { return v > 0 }

	f.waitReady("web", first)
	wantSeries("cruise_application_ready", obj("web"), is(1), "= 1")
	wantSeries("cruise_application_not_ready_since_seconds", obj("web"), is(0), "= 0")
	wantSeries("cruise_application_suspended", obj("web"), is(0), "= 0")
	wantSeries("cruise_application_condition", with(obj("web"), "type", "Ready", "status", "True", "reason", cruisev1.ReasonSucceeded), is(1), "= 1")
	wantSeries("cruise_gitrepository_ready", obj("env"), is(1), "= 1")
	wantSeries("cruise_gitrepository_not_ready_since_seconds", obj("env"), is(0), "= 0")

	f.waitSourceCondition("missing", metav1.ConditionFalse, cruisev1.ReasonSecretNotFound)
	wantSeries("cruise_gitrepository_ready", obj("missing"), is(0), "= 0")
	wantSeries("cruise_gitrepository_not_ready_since_seconds", obj("missing"), positive, "> 0")
	wantSeries("cruise_gitrepository_condition", with(obj("missing"), "type", "Ready", "status", "False", "reason", cruisev1.ReasonSecretNotFound), is(1), "= 1")

	broken := f.waitCondition("broken", metav1.ConditionFalse, cruisev1.ReasonRenderFailed)
	wantSeries("cruise_application_ready", obj("broken"), is(0), "= 0")
	since := wantSeries("cruise_application_not_ready_since_seconds", obj("broken"), positive, "> 0")
	if created := float64(broken.CreationTimestamp.Unix()); since < created || since > float64(time.Now().Unix()) {
		t.Errorf("not Ready since %v: want between its creation (%v) and now", since, created)
	}
	wantSeries("cruise_application_condition", with(obj("broken"), "type", "Ready", "status", "False", "reason", cruisev1.ReasonRenderFailed), is(1), "= 1")

	// Retries (every second, then two, four) flip Ready to Unknown and
	// back; the time it stopped being Ready stays.
	f.eventually("three failed syncs of broken", func() (bool, string) {
		n := len(f.events("broken", cruisev1.ReasonRenderFailed))
		return n >= 3, fmt.Sprintf("%d Warning events", n)
	})
	if got, _ := sample(t, "cruise_application_not_ready_since_seconds", obj("broken")); got != since {
		t.Errorf("not Ready since %v after retries, want %v (the first failure)", got, since)
	}
	failed := len(f.events("broken", cruisev1.ReasonRenderFailed))
	failuresAfter := samples(t, "cruise_reconcile_failures_total", map[string]string{"kind": "Application", "reason": cruisev1.ReasonRenderFailed})
	sum := func(m map[string]float64) (s float64) {
		for _, v := range m {
			s += v
		}
		return s
	}
	if d := sum(failuresAfter) - sum(failuresBefore); d < float64(failed) {
		t.Errorf("cruise_reconcile_failures_total{kind=Application,reason=RenderFailed} grew by %v, want at least the %d failure events", d, failed)
	}

	// Suspending shows, whatever Ready says.
	suspend(t, f.ns, "web")
	wantSeries("cruise_application_suspended", obj("web"), is(1), "= 1")

	// Healed: Ready, and no longer "not Ready since".
	fixed := f.commit("fixed", map[string]string{"app/a.yaml": cmYAML("a", "one"), "bad/b.yaml": cmYAML("b", "two")})
	f.requestFetch(fixed)
	f.waitReady("broken", fixed)
	wantSeries("cruise_application_ready", obj("broken"), is(1), "= 1")
	wantSeries("cruise_application_not_ready_since_seconds", obj("broken"), is(0), "= 0")

	// Deleted: every series of the object goes.
	for _, o := range []client.Object{
		&cruisev1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "broken"}},
		&cruisev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "missing"}},
	} {
		if err := k8s.Delete(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}
	for _, kind := range []string{"application", "gitrepository"} {
		name := map[string]string{"application": "broken", "gitrepository": "missing"}[kind]
		for _, family := range []string{"ready", "not_ready_since_seconds", "suspended", "condition"} {
			metric := "cruise_" + kind + "_" + family
			f.eventually(metric+" of deleted "+name+" gone", func() (bool, string) {
				s := samples(t, metric, obj(name))
				return len(s) == 0, fmt.Sprint(s)
			})
		}
	}
	if _, ok := sample(t, "cruise_application_ready", obj("web")); !ok {
		t.Error("cruise_application_ready of web (not deleted) is gone too")
	}
}

// suspend sets spec.suspend on an Application.
func suspend(t testing.TB, ns, name string) {
	t.Helper()
	app := &cruisev1.Application{}
	if err := k8s.Get(t.Context(), types.NamespacedName{Namespace: ns, Name: name}, app); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(app.DeepCopy())
	app.Spec.Suspend = true
	if err := k8s.Patch(t.Context(), app, patch); err != nil {
		t.Fatal(err)
	}
	if c := meta.FindStatusCondition(app.Status.Conditions, cruisev1.ConditionReady); c == nil {
		t.Fatalf("Application %s has no Ready condition", name)
	}
}
