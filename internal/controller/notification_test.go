package controller_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/notify"
	"github.com/cruisegitops/cruise/internal/notify/notifytest"
	"github.com/cruisegitops/cruise/internal/source/gittest"
)

// createApp creates Application name on path with labels and a short
// retryInterval.
func (f *fixture) createApp(name, path string, labels map[string]string, mutate func(*cruisev1.ApplicationSpec)) {
	f.t.Helper()
	app := &cruisev1.Application{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns, Labels: labels},
		Spec: cruisev1.ApplicationSpec{
			SourceRef: cruisev1.SourceReference{Kind: "GitRepository", Name: "env"}, Path: path, Prune: true,
			Interval: metav1.Duration{Duration: time.Hour}, RetryInterval: &metav1.Duration{Duration: time.Second},
		},
	}
	if mutate != nil {
		mutate(&app.Spec)
	}
	if err := k8s.Create(f.t.Context(), app); err != nil {
		f.t.Fatalf("create Application: %v", err)
	}
}

// TestNotificationsOnceThroughRetries is the end-to-end case: an
// Application breaks (a bad manifest is committed), is retried several
// times by the controller and once by a forced reconcile, then heals.
// Each of two receivers (an Alert of severity info, one of severity
// error) gets exactly one Failed and one Recovered, signed, naming the
// file that failed and linking to cruise server; a third Provider whose
// port never answers delays neither them nor the reconciles, and its
// Alert says its delivery failed.
func TestNotificationsOnceThroughRetries(t *testing.T) {
	f := newFixture(t)
	const key = "hmac-secret"
	info, errs := notifytest.NewSink(t, []byte(key)), notifytest.NewSink(t, []byte(key))
	f.createSecret("info-hook", map[string]string{"hmacKey": key})
	// A chat-style webhook keeps its URL in the Secret: it wins over
	// spec.address.
	f.createSecret("errors-hook", map[string]string{"hmacKey": key, "address": errs.URL + "/hook\n"})
	f.webhookProvider("info", info.URL+"/hook", func(s *cruisev1.ProviderSpec) {
		s.SecretRef = &cruisev1.LocalObjectReference{Name: "info-hook"}
	})
	f.webhookProvider("errors", "https://overridden.invalid/hook", func(s *cruisev1.ProviderSpec) {
		s.SecretRef = &cruisev1.LocalObjectReference{Name: "errors-hook"}
	})
	const deadTimeout = 5 * time.Second
	f.webhookProvider("dead", notifytest.Dead(t), func(s *cruisev1.ProviderSpec) { s.Timeout = &metav1.Duration{Duration: deadTimeout} })
	f.alert("all", "info", "info", nil)
	f.alert("prod-errors", "errors", "error", func(s *cruisev1.AlertSpec) {
		s.EventSources = []cruisev1.EventSource{{Kind: cruisev1.ApplicationKind, Name: "we?", MatchLabels: map[string]string{"tier": "prod"}}}
	})
	f.alert("to-dead", "dead", "info", nil)
	for _, a := range []string{"all", "prod-errors", "to-dead"} {
		f.waitAlert(a, metav1.ConditionTrue, cruisev1.ReasonSucceeded, "")
	}
	obj := "Application/" + f.ns + "/web"

	good := f.commit("good", map[string]string{"app/a.yaml": cmYAML("a", "one")})
	f.source()
	f.createApp("web", "app", map[string]string{"tier": "prod"}, nil)
	f.waitReady("web", good)
	f.waitMessages(info, notify.Synced, obj, 1)

	bad := f.commit("Break a.yaml", map[string]string{"app/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: [\n"})
	f.requestFetch(bad)
	f.waitCondition("web", metav1.ConditionFalse, cruisev1.ReasonRenderFailed)
	f.failedAttempts("web", 3)
	v := annotate(t, &cruisev1.Application{}, types.NamespacedName{Namespace: f.ns, Name: "web"})
	f.eventually("the forced reconcile handled", func() (bool, string) {
		app := f.getApp("web")
		return app.Status.LastHandledReconcileAt == v, app.Status.LastHandledReconcileAt
	})
	f.failedAttempts("web", 2)

	fixed := f.commit("Fix a.yaml", map[string]string{"app/a.yaml": cmYAML("a", "two")})
	f.requestFetch(fixed)
	f.waitReady("web", fixed)
	f.waitMessages(info, notify.Recovered, obj, 1)
	f.waitMessages(errs, notify.Recovered, obj, 1)

	// Each receiver's queue delivers in order, and every retry was routed
	// before the success that ended them: these counts are final.
	for name, sink := range map[string]*notifytest.Sink{"info": info, "error": errs} {
		if n := sink.Count(notify.Failed, obj); n != 1 {
			t.Errorf("%s receiver: %d Failed, want exactly 1: %s", name, n, summarize(sink.Delivered()))
		}
		if n := sink.Count(notify.Recovered, obj); n != 1 {
			t.Errorf("%s receiver: %d Recovered, want exactly 1", name, n)
		}
		for _, r := range sink.Requests() {
			if !r.SignatureOK {
				t.Errorf("%s receiver: %s not signed with the Secret's hmacKey", name, r.Event.Type)
			}
		}
	}
	if n := errs.Count(notify.Synced); n != 0 {
		t.Errorf("the severity error Alert got %d Synced", n)
	}
	if n := info.Count(notify.Synced, obj); n != 2 {
		t.Errorf("the info Alert got %d Synced, want 2 (first and fixed revision)", n)
	}

	var failed notify.Event
	var received time.Time
	for _, r := range info.Requests() {
		if r.Event.Type == notify.Failed {
			failed, received = r.Event, r.Time
		}
	}
	wantURL := testServerURL + "/apps/" + f.ns + "/web"
	if failed.Version != "v1" || len(failed.ID) != 32 || failed.Severity != notify.SeverityError || failed.Reason != cruisev1.ReasonRenderFailed ||
		failed.Revision != "main@sha1:"+bad || failed.URL != wantURL || failed.Object.UID == "" {
		t.Errorf("Failed payload %+v", failed)
	}
	if !strings.Contains(failed.Message, "app/a.yaml") || len(failed.Objects) == 0 || !strings.HasPrefix(failed.Objects[0], "app/a.yaml") {
		t.Errorf("Failed names no file: message %q, objects %v", failed.Message, failed.Objects)
	}
	if failed.Commit == nil || failed.Commit.SHA != bad || failed.Commit.Subject != "Break a.yaml" {
		t.Errorf("Failed commit %+v", failed.Commit)
	}
	if d := received.Sub(failed.Time); d >= deadTimeout {
		t.Errorf("the Failed reached a live receiver %s after the event, with a dead Provider's %s timeout in the way", d, deadTimeout)
	}

	f.waitAlert("to-dead", metav1.ConditionFalse, cruisev1.ReasonDeliveryFailed, "timed out")
	a := f.waitAlert("all", metav1.ConditionTrue, cruisev1.ReasonSucceeded, "")
	f.eventually("lastDelivery of Alert all", func() (bool, string) {
		a = &cruisev1.Alert{}
		_ = k8s.Get(t.Context(), types.NamespacedName{Namespace: f.ns, Name: "all"}, a)
		ld := a.Status.LastDelivery
		return ld != nil && ld.Type == "Recovered" && ld.Object == obj && ld.Attempts == 1 && ld.Error == "", ""
	})
	if counter(t, "cruise_notifications_suppressed_total") == 0 {
		t.Error("no suppressed duplicates counted")
	}
}

// TestNotificationStatus: Providers and Alerts say why they cannot
// deliver: a missing Provider, an invalid one (bad address, missing
// Secret, bad ca.crt), a template or pattern that does not parse, a
// template that fails on an event, a receiver that refuses; and they
// recover when fixed.
func TestNotificationStatus(t *testing.T) {
	f := newFixture(t)
	sink := notifytest.NewSink(t, nil)
	const secretValue = "s3cr3t-value-never-shown"

	f.alert("orphan", "missing", "", nil)
	f.waitAlert("orphan", metav1.ConditionFalse, cruisev1.ReasonProviderNotFound, "Provider "+f.ns+"/missing not found")

	f.webhookProvider("ftp", "ftp://example.com/hook", nil)
	f.waitProvider("ftp", metav1.ConditionFalse, cruisev1.ReasonInvalidProvider, "not an http or https URL")
	f.alert("to-ftp", "ftp", "", nil)
	f.waitAlert("to-ftp", metav1.ConditionFalse, cruisev1.ReasonInvalidProvider, "not an http or https URL")

	f.webhookProvider("later", sink.URL, func(s *cruisev1.ProviderSpec) { s.SecretRef = &cruisev1.LocalObjectReference{Name: "later"} })
	f.waitProvider("later", metav1.ConditionFalse, cruisev1.ReasonInvalidProvider, "Secret "+f.ns+"/later not found")
	f.alert("to-later", "later", "", nil)
	f.waitAlert("to-later", metav1.ConditionFalse, cruisev1.ReasonInvalidProvider, "not found")
	f.createSecret("later", map[string]string{"hmacKey": "k"})
	f.waitProvider("later", metav1.ConditionTrue, cruisev1.ReasonSucceeded, "")
	f.waitAlert("to-later", metav1.ConditionTrue, cruisev1.ReasonSucceeded, "")

	f.createSecret("bad-ca", map[string]string{"ca.crt": secretValue})
	f.webhookProvider("bad-ca", "https://example.com/hook", func(s *cruisev1.ProviderSpec) {
		s.SecretRef = &cruisev1.LocalObjectReference{Name: "bad-ca"}
	})
	p := f.waitProvider("bad-ca", metav1.ConditionFalse, cruisev1.ReasonInvalidProvider, "ca.crt")
	if strings.Contains(p.Status.Conditions[0].Message, secretValue) {
		t.Errorf("the status shows the Secret's value: %v", p.Status.Conditions)
	}

	f.webhookProvider("ok", sink.URL, nil)
	f.alert("bad-pattern", "ok", "", func(s *cruisev1.AlertSpec) { s.ExclusionList = []string{"(unclosed"} })
	f.waitAlert("bad-pattern", metav1.ConditionFalse, cruisev1.ReasonTemplateError, "exclusionList[0]")
	f.alert("bad-template", "ok", "", func(s *cruisev1.AlertSpec) { s.Template = &cruisev1.AlertTemplate{Subject: "{{.Type"} })
	f.waitAlert("bad-template", metav1.ConditionFalse, cruisev1.ReasonTemplateError, "template.subject")
	f.alert("render-error", "ok", "", func(s *cruisev1.AlertSpec) {
		s.Template = &cruisev1.AlertTemplate{Body: "{{index .Objects 3}}"}
	})
	f.waitAlert("render-error", metav1.ConditionTrue, cruisev1.ReasonSucceeded, "")

	// The API server refuses what the schema rules out, naming the field.
	bad := &cruisev1.Alert{ObjectMeta: metav1.ObjectMeta{Name: "bad-severity", Namespace: f.ns}, Spec: cruisev1.AlertSpec{
		ProviderRef: cruisev1.LocalObjectReference{Name: "ok"}, Severity: "warning",
		EventSources: []cruisev1.EventSource{{Kind: "Application"}},
	}}
	if err := k8s.Create(t.Context(), bad); err == nil || !strings.Contains(err.Error(), "spec.severity") {
		t.Errorf("an Alert with severity warning: %v, want a refusal naming spec.severity", err)
	}

	// An event: the render-error Alert sends the default and says why.
	rev := f.commit("first", map[string]string{"app/a.yaml": cmYAML("a", "one")})
	f.source()
	f.createApp("web", "app", nil, nil)
	f.waitReady("web", rev)
	f.waitAlert("render-error", metav1.ConditionFalse, cruisev1.ReasonTemplateError, "template.body")
	// The sink is to-later's, bad-template's and render-error's: both
	// Alerts with broken templates still deliver; bad-pattern does not.
	f.eventually("Synced sent through three Alerts", func() (bool, string) {
		return sink.Count(notify.Synced) == 3, summarize(sink.Delivered())
	})

	// A receiver answering 400: DeliveryFailed, with the answer.
	refusing := notifytest.NewSink(t, nil)
	refusing.Respond(notifytest.Response{Status: 400, Body: "unknown channel"})
	f.webhookProvider("refusing", refusing.URL, nil)
	f.alert("to-refusing", "refusing", "", nil)
	f.waitAlert("to-refusing", metav1.ConditionTrue, cruisev1.ReasonSucceeded, "")
	rev = f.commit("second", map[string]string{"app/a.yaml": cmYAML("a", "two")})
	f.requestFetch(rev)
	a := f.waitAlert("to-refusing", metav1.ConditionFalse, cruisev1.ReasonDeliveryFailed, "HTTP 400: unknown channel")
	if ld := a.Status.LastDelivery; ld == nil || ld.Attempts != 1 || ld.Type != "Synced" || ld.Object != "Application/"+f.ns+"/web" {
		t.Errorf("lastDelivery %+v, want the Synced of web after one attempt", ld)
	}
	if n := len(refusing.Requests()); n != 1 {
		t.Errorf("a 400 was tried %d times", n)
	}
	// The next delivery succeeds: Ready again.
	rev = f.commit("third", map[string]string{"app/a.yaml": cmYAML("a", "three")})
	f.requestFetch(rev)
	f.waitAlert("to-refusing", metav1.ConditionTrue, cruisev1.ReasonSucceeded, "")
}

// TestNotificationKinds: drift reverted, a rollback deployed, health
// degraded and recovered, a GitRepository failing, each as its own event
// type.
func TestNotificationKinds(t *testing.T) {
	f := newFixture(t)
	sink := notifytest.NewSink(t, nil)
	f.webhookProvider("p", sink.URL, nil)
	f.alert("all", "p", "info", func(s *cruisev1.AlertSpec) {
		s.EventSources = append(s.EventSources, cruisev1.EventSource{Kind: cruisev1.GitRepositoryKind})
	})
	f.waitAlert("all", metav1.ConditionTrue, cruisev1.ReasonSucceeded, "")
	obj := "Application/" + f.ns + "/web"

	first := f.commit("first", map[string]string{"app/a.yaml": cmYAML("a", "one")})
	f.source()
	f.createApp("web", "app", nil, nil)
	f.waitReady("web", first)

	cm := f.configMap("a")
	cm.Data["value"] = "edited by hand"
	if err := k8s.Update(t.Context(), cm); err != nil {
		t.Fatal(err)
	}
	f.waitMessages(sink, notify.DriftReverted, obj, 1)
	for _, e := range sink.Delivered() {
		if e.Type == notify.DriftReverted && !slices.Contains(e.Objects, "ConfigMap/"+f.ns+"/a") {
			t.Errorf("DriftReverted objects %v", e.Objects)
		}
	}

	second := f.commit("second", map[string]string{"app/a.yaml": cmYAML("a", "two")})
	f.requestFetch(second)
	f.waitReady("web", second)
	back := f.commit("Roll back "+f.ns+"/web to "+first[:7], map[string]string{"app/a.yaml": cmYAML("a", "one")})
	f.requestFetch(back)
	f.waitReady("web", back)
	f.waitMessages(sink, notify.RolledBack, obj, 1)

	// A Deployment never becomes available on this control plane (no
	// kubelet): health degrades, then a revision without it recovers.
	deploy := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: registry.example/web:1}]}
`
	wait := true
	app := f.getApp("web")
	app.Spec.Wait, app.Spec.Timeout = &wait, &metav1.Duration{Duration: 2 * time.Second}
	if err := k8s.Update(t.Context(), app); err != nil {
		t.Fatal(err)
	}
	unhealthy := f.commit("deploy", map[string]string{"app/a.yaml": cmYAML("a", "one"), "app/deploy.yaml": deploy})
	f.requestFetch(unhealthy)
	f.waitMessages(sink, notify.HealthDegraded, obj, 1)
	for _, e := range sink.Delivered() {
		if e.Type == notify.HealthDegraded && !slices.Contains(e.Objects, "Deployment/"+f.ns+"/web") {
			t.Errorf("HealthDegraded objects %v, want the Deployment", e.Objects)
		}
	}
	healthy := f.commit("undeploy", map[string]string{"app/a.yaml": cmYAML("a", "one")})
	f.requestFetch(healthy)
	f.waitMessages(sink, notify.Recovered, obj, 1)

	f.sourceNamed("unreachable", func(s *cruisev1.GitRepositorySpec) { s.URL = "http://127.0.0.1:1/env.git" })
	repo := "GitRepository/" + f.ns + "/unreachable"
	f.waitMessages(sink, notify.Failed, repo, 1)
	// A forced retry fails the same way: nothing more is sent.
	v := annotate(t, &cruisev1.GitRepository{}, types.NamespacedName{Namespace: f.ns, Name: "unreachable"})
	f.eventually("the forced fetch handled", func() (bool, string) {
		r := &cruisev1.GitRepository{}
		_ = k8s.Get(t.Context(), types.NamespacedName{Namespace: f.ns, Name: "unreachable"}, r)
		return r.Status.LastHandledReconcileAt == v, r.Status.LastHandledReconcileAt
	})
	marker := f.commit("marker", map[string]string{"app/a.yaml": cmYAML("a", "marker")})
	f.requestFetch(marker)
	f.waitMessages(sink, notify.Synced, obj, 1)
	f.eventually("the marker sync sent", func() (bool, string) {
		for _, e := range sink.Delivered() {
			if e.Type == notify.Synced && strings.HasSuffix(e.Revision, marker) {
				return true, ""
			}
		}
		return false, summarize(sink.Delivered())
	})
	if n := sink.Count(notify.Failed, repo); n != 1 {
		t.Errorf("%d Failed about the unreachable GitRepository, want 1", n)
	}
}

// TestNotificationImageUpdated: an image update automation's push is an
// ImageUpdated event with the commit, the files and the changes.
func TestNotificationImageUpdated(t *testing.T) {
	f := newImgFixture(t, gittest.HTTPOptions{}, map[string]string{
		"apps/deploy.yaml": "image: registry.example/app:1.0.0 # {\"$imagepolicy\": \"apps:app\"}\n",
	})
	sink := notifytest.NewSink(t, nil)
	f.webhookProvider("p", sink.URL, nil)
	f.alert("images", "p", "info", func(s *cruisev1.AlertSpec) {
		s.EventSources = []cruisev1.EventSource{{Kind: cruisev1.ImageUpdateAutomationKind, Name: "web"}}
	})
	f.waitAlert("images", metav1.ConditionTrue, cruisev1.ReasonSucceeded, "")
	f.sourceNamed("env", nil)
	f.policy("app", nil, app2)
	f.automation("web", "apps", nil)
	a := f.waitAuto("web", metav1.ConditionTrue, cruisev1.ReasonSucceeded)
	obj := "ImageUpdateAutomation/" + f.ns + "/web"
	f.waitMessages(sink, notify.ImageUpdated, obj, 1)
	ev := sink.Delivered()[0]
	if ev.Commit == nil || ev.Commit.SHA != a.Status.LastPushCommit || ev.Revision != "main@sha1:"+a.Status.LastPushCommit ||
		!strings.HasPrefix(ev.Commit.Subject, "Update images") || ev.Commit.Author != "cruise-bot <bot@example.com>" {
		t.Errorf("ImageUpdated commit %+v revision %s, want the pushed commit %s", ev.Commit, ev.Revision, a.Status.LastPushCommit)
	}
	if !slices.Contains(ev.Objects, "apps/deploy.yaml") || !strings.Contains(ev.Message, "registry.example/app:1.1.0") {
		t.Errorf("ImageUpdated objects %v, message %q", ev.Objects, ev.Message)
	}
}
