package controller_test

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/notify"
	"github.com/cruisegitops/cruise/internal/notify/notifytest"
)

// createSecret makes a Secret of the test's namespace.
func (f *fixture) createSecret(name string, data map[string]string) {
	f.t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns}, StringData: data}
	if err := k8s.Create(f.t.Context(), s); err != nil {
		f.t.Fatalf("create Secret %s: %v", name, err)
	}
}

// webhookProvider creates a Provider of type webhook; mutate adjusts it.
func (f *fixture) webhookProvider(name, address string, mutate func(*cruisev1.ProviderSpec)) {
	f.t.Helper()
	p := &cruisev1.Provider{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec:       cruisev1.ProviderSpec{Type: notify.TypeWebhook, Address: address, Timeout: &metav1.Duration{Duration: 5 * time.Second}},
	}
	if mutate != nil {
		mutate(&p.Spec)
	}
	if err := k8s.Create(f.t.Context(), p); err != nil {
		f.t.Fatalf("create Provider %s: %v", name, err)
	}
}

// alert creates an Alert for every Application of the namespace;
// mutate adjusts it.
func (f *fixture) alert(name, provider, severity string, mutate func(*cruisev1.AlertSpec)) {
	f.t.Helper()
	a := &cruisev1.Alert{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec: cruisev1.AlertSpec{
			ProviderRef: cruisev1.LocalObjectReference{Name: provider}, Severity: severity,
			EventSources: []cruisev1.EventSource{{Kind: cruisev1.ApplicationKind, Name: "*"}},
		},
	}
	if mutate != nil {
		mutate(&a.Spec)
	}
	if err := k8s.Create(f.t.Context(), a); err != nil {
		f.t.Fatalf("create Alert %s: %v", name, err)
	}
}

// waitAlert waits until the Alert's Ready has the status and reason for
// its generation and the message contains msg.
func (f *fixture) waitAlert(name string, status metav1.ConditionStatus, reason, msg string) *cruisev1.Alert {
	f.t.Helper()
	var a *cruisev1.Alert
	f.eventually(fmt.Sprintf("Alert %s Ready=%s %s %q", name, status, reason, msg), func() (bool, string) {
		a = &cruisev1.Alert{}
		if err := k8s.Get(f.t.Context(), types.NamespacedName{Namespace: f.ns, Name: name}, a); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(a.Status.Conditions, cruisev1.ConditionReady)
		if c == nil {
			return false, "no Ready condition"
		}
		return c.Status == status && c.Reason == reason && c.ObservedGeneration == a.Generation && strings.Contains(c.Message, msg),
			string(c.Status) + " " + c.Reason + ": " + c.Message
	})
	return a
}

// waitProvider waits like waitAlert for a Provider.
func (f *fixture) waitProvider(name string, status metav1.ConditionStatus, reason, msg string) *cruisev1.Provider {
	f.t.Helper()
	var p *cruisev1.Provider
	f.eventually(fmt.Sprintf("Provider %s Ready=%s %s %q", name, status, reason, msg), func() (bool, string) {
		p = &cruisev1.Provider{}
		if err := k8s.Get(f.t.Context(), types.NamespacedName{Namespace: f.ns, Name: name}, p); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(p.Status.Conditions, cruisev1.ConditionReady)
		if c == nil {
			return false, "no Ready condition"
		}
		return c.Status == status && c.Reason == reason && c.ObservedGeneration == p.Generation && strings.Contains(c.Message, msg),
			string(c.Status) + " " + c.Reason + ": " + c.Message
	})
	return p
}

// waitMessages waits until sink accepted n events of typ about obj.
func (f *fixture) waitMessages(sink *notifytest.Sink, typ notify.EventType, obj string, n int) {
	f.t.Helper()
	f.eventually(fmt.Sprintf("%d %s about %s", n, typ, obj), func() (bool, string) {
		got := sink.Count(typ, obj)
		return got >= n, fmt.Sprintf("%d; all: %s", got, summarize(sink.Delivered()))
	})
}

func summarize(evs []notify.Event) string {
	var parts []string
	for _, e := range evs {
		parts = append(parts, string(e.Type)+" "+e.Object.String())
	}
	return strings.Join(parts, ", ")
}

// failedAttempts waits until n failed syncs of the Application were seen
// (each attempt stamps the newest history entry, to the second) (each attempt stamps the newest history entry).
func (f *fixture) failedAttempts(name string, n int) {
	f.t.Helper()
	var stamps []time.Time
	f.eventually(fmt.Sprintf("%d failed attempts of %s", n, name), func() (bool, string) {
		app := f.getApp(name)
		if len(app.Status.History) == 0 || app.Status.History[0].Result != "Failed" {
			return false, "no failed history entry"
		}
		if at := app.Status.History[0].Time.Time; len(stamps) == 0 || !at.Equal(stamps[len(stamps)-1]) {
			stamps = append(stamps, at)
		}
		return len(stamps) >= n, fmt.Sprintf("attempts at %v", stamps)
	})
}
