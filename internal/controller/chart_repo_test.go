package controller_test

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/chartrepo/chartrepotest"
)

// chartApp creates an Application of a repository chart.
func chartApp(t *testing.T, ns, name string, chart *cruisev1.ChartSource) {
	t.Helper()
	app := &cruisev1.Application{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: cruisev1.ApplicationSpec{
			Chart: chart, Prune: true, Interval: metav1.Duration{Duration: time.Hour},
		},
	}
	if err := k8s.Create(t.Context(), app); err != nil {
		t.Fatalf("create Application: %v", err)
	}
}

func credentialsSecret(t *testing.T, ns, name string, data map[string][]byte) {
	t.Helper()
	if err := k8s.Create(t.Context(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}); err != nil {
		t.Fatal(err)
	}
}

// TestRepositoryChart: a chart from an OCI registry and from an HTTP
// repository, each behind credentials, is deployed at the highest version
// its range allows; the revision is "<version>@sha256:<digest>"; a new
// version in range is picked up by the next sync; a version that does not
// exist says so.
func TestRepositoryChart(t *testing.T) {
	f := newFixture(t)
	oci := chartrepotest.NewOCI(t, chartrepotest.OCIOptions{Username: "robot", Password: "s3cret"})
	oci.PushChart(t, chartrepotest.Chart("hello", "1.0.0"))
	oci.PushChart(t, chartrepotest.Chart("hello", "1.1.0"))
	oci.PushChart(t, chartrepotest.Chart("hello", "2.0.0"))
	credentialsSecret(t, f.ns, "oci-creds", oci.SecretData())

	web := chartrepotest.NewHTTP(t, chartrepotest.HTTPOptions{Username: "reader", Password: "pw"})
	web.AddChart(t, chartrepotest.Chart("hello", "3.0.0"))
	credentialsSecret(t, f.ns, "web-creds", web.SecretData())

	chartApp(t, f.ns, "from-oci", &cruisev1.ChartSource{
		RepoURL: oci.URL(), Name: "hello", Version: "^1", SecretRef: &cruisev1.LocalObjectReference{Name: "oci-creds"},
	})
	chartApp(t, f.ns, "from-http", &cruisev1.ChartSource{
		RepoURL: web.URL(), Name: "hello", SecretRef: &cruisev1.LocalObjectReference{Name: "web-creds"},
	})
	chartApp(t, f.ns, "missing", &cruisev1.ChartSource{RepoURL: web.URL(), Name: "hello", Version: "9.9.9",
		SecretRef: &cruisev1.LocalObjectReference{Name: "web-creds"}})

	app := f.waitReadyRevision("from-oci", "1.1.0@sha256:")
	if c := app.Status.Chart; c == nil || c.Name != "hello" || c.Version != "1.1.0" {
		t.Errorf("status.chart %+v", app.Status.Chart)
	}
	if cm := f.configMap("from-oci-hello"); cm == nil || cm.Data["version"] != "1.1.0" {
		t.Error("chart 1.1.0 not applied from the OCI registry")
	}
	f.waitReadyRevision("from-http", "3.0.0@sha256:")
	if cm := f.configMap("from-http-hello"); cm == nil || cm.Data["version"] != "3.0.0" {
		t.Error("chart 3.0.0 not applied from the HTTP repository")
	}
	missing := f.waitCondition("missing", metav1.ConditionFalse, cruisev1.ReasonSourceNotFound)
	if msg := readyCondition(missing).Message; !strings.Contains(msg, "9.9.9") || !strings.Contains(msg, "3.0.0") {
		t.Errorf("message %q should name the version asked and those there are", msg)
	}

	// A new version in range: the next sync (here asked for, as
	// `cruise reconcile` does) deploys it. The index cache of the
	// controller's chart client lives a minute; an OCI tag list too, so
	// the new version is asked for by its exact tag.
	oci.PushChart(t, chartrepotest.Chart("hello", "1.2.0"))
	patchChartVersion(t, f.ns, "from-oci", "1.2.0")
	f.waitReadyRevision("from-oci", "1.2.0@sha256:")
	if cm := f.configMap("from-oci-hello"); cm.Data["version"] != "1.2.0" {
		t.Error("version 1.2.0 not applied")
	}
}

func patchChartVersion(t *testing.T, ns, name, version string) {
	t.Helper()
	app := &cruisev1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	patch := []byte(`{"spec":{"chart":{"version":"` + version + `"}}}`)
	if err := k8s.Patch(t.Context(), app, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
}

// waitReadyRevision waits until the Application is Ready at a revision
// starting with prefix.
func (f *fixture) waitReadyRevision(name, prefix string) *cruisev1.Application {
	f.t.Helper()
	var app *cruisev1.Application
	f.eventually("Application "+name+" Ready at "+prefix, func() (bool, string) {
		app = f.getApp(name)
		c := readyCondition(app)
		if c == nil {
			return false, "no Ready condition"
		}
		return ready(app.Status.Conditions, app.Generation) && strings.HasPrefix(app.Status.LastAppliedRevision, prefix), c.Reason + ": " + c.Message
	})
	return app
}

// TestChartOrSourceRef: an Application names exactly one of sourceRef and
// chart; the API server refuses both or neither.
func TestChartOrSourceRef(t *testing.T) {
	ns := env.Namespace(t)
	for name, spec := range map[string]cruisev1.ApplicationSpec{
		"both":    {SourceRef: cruisev1.SourceReference{Name: "env"}, Chart: &cruisev1.ChartSource{RepoURL: "oci://127.0.0.1:1/charts", Name: "x"}},
		"neither": {Path: "."},
	} {
		app := &cruisev1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
		err := k8s.Create(t.Context(), app)
		if err == nil || !strings.Contains(err.Error(), "exactly one of sourceRef (with path) and chart") {
			t.Errorf("%s: %v, want the CEL rule's message", name, err)
		}
	}
}
