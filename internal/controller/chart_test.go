package controller_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/helm"
)

// webChart is a small chart in Git: a ConfigMap of the values, and a
// Secret with a generated password.
func webChart(extra map[string]string) map[string]string {
	files := map[string]string{
		"charts/web/Chart.yaml":       "apiVersion: v2\nname: web\nversion: 0.1.0\nappVersion: \"1.0\"\n",
		"charts/web/values.yaml":      "greeting: hello\ncolour: blue\n",
		"charts/web/values-prod.yaml": "colour: red\n",
		"charts/web/templates/config.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
  labels:
    upgrade: {{ .Release.IsUpgrade | quote }}
data:
  greeting: {{ required "greeting is required" .Values.greeting | quote }}
  colour: {{ .Values.colour | quote }}
  namespace: {{ .Release.Namespace | quote }}
`,
		"charts/web/templates/secret.yaml": `apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-auth
stringData:
  password: {{ randAlphaNum 20 | quote }}
`,
	}
	for k, v := range extra {
		files[k] = v
	}
	return files
}

// TestChartInGit: a directory holding Chart.yaml is rendered by Helm, with
// values files, valuesFrom and inline values in the pinned order; the
// chart shows in the status; a resync keeps the generated password; a
// change of a valuesFrom ConfigMap syncs.
func TestChartInGit(t *testing.T) {
	f := newFixture(t)
	rev := f.commit("chart", webChart(nil))
	f.source()
	values := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "web-values"},
		Data:       map[string]string{"values.yaml": "greeting: from-configmap\n"},
	}
	if err := k8s.Create(t.Context(), values); err != nil {
		t.Fatal(err)
	}
	f.app("web", "charts/web", func(s *cruisev1.ApplicationSpec) {
		s.Helm = &cruisev1.HelmSettings{
			ReleaseName: "site",
			ValuesFiles: []string{"values-prod.yaml"},
			ValuesFrom:  []cruisev1.ValuesReference{{Kind: "ConfigMap", Name: "web-values"}},
			Values:      &apiextensionsv1.JSON{Raw: []byte(`{"extra": 1}`)},
		}
	})
	app := f.waitReady("web", rev)
	if c := app.Status.Chart; c == nil || c.Name != "web" || c.Version != "0.1.0" || c.AppVersion != "1.0" {
		t.Errorf("status.chart = %+v", app.Status.Chart)
	}
	cm := f.configMap("site-config")
	if cm == nil {
		t.Fatal("ConfigMap site-config not applied")
	}
	if cm.Data["greeting"] != "from-configmap" || cm.Data["colour"] != "red" || cm.Data["namespace"] != f.ns {
		t.Errorf("values not layered as pinned: %v", cm.Data)
	}
	if cm.Labels["upgrade"] != "false" {
		t.Errorf("first apply: IsUpgrade = %q", cm.Labels["upgrade"])
	}
	password := secretValue(t, f.ns, "site-auth", "password")
	kept := &corev1.Secret{}
	if err := k8s.Get(t.Context(), types.NamespacedName{Namespace: f.ns, Name: helm.GeneratedSecretName("web")}, kept); err != nil {
		t.Fatalf("generated values not kept: %v", err)
	}
	if kept.Type != helm.GeneratedSecretType || len(kept.OwnerReferences) != 1 || kept.OwnerReferences[0].Name != "web" {
		t.Errorf("kept values Secret: type %s, owners %v", kept.Type, kept.OwnerReferences)
	}

	// valuesFrom changes: the Application syncs at the same revision, as
	// an upgrade, and the generated password stays.
	values.Data["values.yaml"] = "greeting: changed\n"
	if err := k8s.Update(t.Context(), values); err != nil {
		t.Fatal(err)
	}
	f.eventually("greeting from the changed ConfigMap", func() (bool, string) {
		cm := f.configMap("site-config")
		return cm != nil && cm.Data["greeting"] == "changed", "not yet"
	})
	if cm := f.configMap("site-config"); cm.Labels["upgrade"] != "true" {
		t.Errorf("second apply: IsUpgrade = %q", cm.Labels["upgrade"])
	}
	if got := secretValue(t, f.ns, "site-auth", "password"); got != password {
		t.Error("the generated password changed on an upgrade")
	}
}

// TestChartRenderErrorKeepsRelease: a render error (a required value
// missing) stalls with RenderFailed naming the template, and the release
// already applied keeps running.
func TestChartRenderErrorKeepsRelease(t *testing.T) {
	f := newFixture(t)
	rev := f.commit("chart", webChart(nil))
	f.source()
	f.app("web", "charts/web", nil)
	f.waitReady("web", rev)

	broken := webChart(map[string]string{"charts/web/values.yaml": "greeting: null\n"})
	f.requestFetch(f.commit("drop the greeting", broken))
	app := f.waitCondition("web", metav1.ConditionFalse, cruisev1.ReasonRenderFailed)
	msg := readyCondition(app).Message
	if !strings.Contains(msg, "web/templates/config.yaml") || !strings.Contains(msg, "greeting is required") {
		t.Errorf("message %q should name the template and the value", msg)
	}
	if cm := f.configMap("web-config"); cm == nil || cm.Data["greeting"] != "hello" {
		t.Error("the release applied before was touched")
	}
}

// TestChartValuesFileEscape: a values file outside the chart directory is
// refused by name.
func TestChartValuesFileEscape(t *testing.T) {
	f := newFixture(t)
	f.commit("chart", webChart(map[string]string{"secrets.yaml": "greeting: stolen\n"}))
	f.source()
	f.app("web", "charts/web", func(s *cruisev1.ApplicationSpec) {
		s.Helm = &cruisev1.HelmSettings{ValuesFiles: []string{"../../secrets.yaml"}}
	})
	app := f.waitCondition("web", metav1.ConditionFalse, cruisev1.ReasonRenderFailed)
	if msg := readyCondition(app).Message; !strings.Contains(msg, "../../secrets.yaml") || !strings.Contains(msg, "leaves the chart directory") {
		t.Errorf("message %q", msg)
	}
	if f.configMap("web-config") != nil {
		t.Error("something was applied")
	}
}

func secretValue(t *testing.T, ns, name, key string) string {
	t.Helper()
	s := &corev1.Secret{}
	if err := k8s.Get(t.Context(), types.NamespacedName{Namespace: ns, Name: name}, s); err != nil {
		t.Fatalf("Secret %s: %v", name, err)
	}
	return string(s.Data[key])
}

// TestChartDriftReverted: an object of a chart changed by hand is
// reverted like any other, and the generated password stays.
func TestChartDriftReverted(t *testing.T) {
	f := newFixture(t)
	rev := f.commit("chart", webChart(nil))
	f.source()
	f.app("web", "charts/web", nil)
	f.waitReady("web", rev)
	password := secretValue(t, f.ns, "web-auth", "password")
	cm := f.configMap("web-config")
	cm.Data["greeting"] = "edited"
	if err := k8s.Update(t.Context(), cm, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	f.eventually("hand edit reverted", func() (bool, string) {
		cm := f.configMap("web-config")
		return cm != nil && cm.Data["greeting"] == "hello", cm.Data["greeting"]
	})
	if got := secretValue(t, f.ns, "web-auth", "password"); got != password {
		t.Error("the drift revert generated a new password")
	}
}
