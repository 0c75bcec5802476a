package cli_test

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestEventsApp(t *testing.T) {
	t.Parallel()
	k := newKubeTest(t)
	k.createSourceAndApp(t, "web")
	k.createSourceAndApp(t, "db")
	uid := k.app(t, "web").UID

	r := k.run(t, 0, "events", "app", "web")
	if r.stdout != "" || r.stderr != "no events found for Application/"+k.ns+"/web\n" {
		t.Errorf("no events: stdout %q, stderr %q", r.stdout, r.stderr)
	}

	now := time.Now()
	event := func(name, apiVersion, kind, object, typ, reason, msg string, at time.Time) {
		t.Helper()
		e := &corev1.Event{
			ObjectMeta: metav1.ObjectMeta{Namespace: k.ns, Name: name},
			InvolvedObject: corev1.ObjectReference{APIVersion: apiVersion, Kind: kind,
				Namespace: k.ns, Name: object},
			Type: typ, Reason: reason, Message: msg, Count: 1,
			FirstTimestamp: metav1.NewTime(at), LastTimestamp: metav1.NewTime(at),
			Source: corev1.EventSource{Component: "cruise-controller"},
		}
		if object == "web" && kind == "Application" && apiVersion == "cruise.dev/v1alpha1" {
			e.InvolvedObject.UID = uid
		}
		if err := k.c.Create(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	event("web.2", "cruise.dev/v1alpha1", "Application", "web", "Warning", "HealthCheckFailed",
		"Deployment/demo/web: Available: 0/1", now.Add(-15*time.Minute))
	event("web.1", "cruise.dev/v1alpha1", "Application", "web", "Normal", "ReconciliationSucceeded",
		"Applied revision main@sha1:abc", now.Add(-20*time.Minute))
	// Not about this Application: another one, the source of the same
	// name, and Argo CD's Application kind.
	event("db.1", "cruise.dev/v1alpha1", "Application", "db", "Normal", "OtherApp", "db", now)
	event("src.1", "cruise.dev/v1alpha1", "GitRepository", "web", "Normal", "Fetched", "source", now)
	event("argo.1", "argoproj.io/v1alpha1", "Application", "web", "Normal", "ArgoSync", "argo", now)

	r = k.run(t, 0, "events", "app", "web")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("events app web printed %d lines, want header and 2 events:\n%s", len(lines), r.stdout)
	}
	for i, want := range [][]string{
		{"LAST SEEN", "TYPE", "REASON", "MESSAGE"},
		{"20m", "Normal", "ReconciliationSucceeded", "Applied revision main@sha1:abc"},
		{"15m", "Warning", "HealthCheckFailed", "Deployment/demo/web: Available: 0/1"},
	} {
		if got := fields(lines[i]); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("line %d: %q, want %q", i, got, want)
		}
	}

	r = k.run(t, 0, "events", "source", "web")
	wantContains(t, r.stdout, "Fetched")
}
