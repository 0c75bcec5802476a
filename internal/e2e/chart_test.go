package e2e_test

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"helm.sh/helm/v4/pkg/chart/common"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/chartrepo/chartrepotest"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
	"github.com/cruisegitops/cruise/internal/helm"
)

// TestChartWithInstalledRBAC: the controller, with the rights the install
// gives it and nothing more, deploys a chart from an OCI registry as a
// tenant's ServiceAccount: values from a Secret, a hook, a generated
// password kept in the Secret beside the Application, and a change of the
// values Secret synced.
func TestChartWithInstalledRBAC(t *testing.T) {
	installRBAC(t)
	ns := env.Namespace(t)
	ctx := t.Context()
	startController(t, "--kubeconfig", kubeconfigAs(t, controllerSA,
		"system:serviceaccounts", "system:serviceaccounts:cruise-system", "system:authenticated"))

	ch := chartrepotest.Chart("site", "1.0.0")
	ch.Templates = append(ch.Templates,
		&common.File{Name: "templates/secret.yaml", Data: []byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-auth\nstringData:\n  password: {{ randAlphaNum 16 | quote }}\n")},
		&common.File{Name: "templates/hook.yaml", Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-prepared\n  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\ndata:\n  greeting: {{ .Values.greeting | quote }}\n")},
	)
	reg := chartrepotest.NewOCI(t, chartrepotest.OCIOptions{Username: "robot", Password: "pw"})
	reg.PushChart(t, ch)

	for _, o := range []client.Object{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "deployer"}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "deployer"}, Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{""}, Resources: []string{"configmaps", "secrets"}, Verbs: []string{"*"},
		}}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "deployer"},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "deployer"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "deployer", Namespace: ns}}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "oci"}, Data: reg.SecretData()},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "site-values"}, StringData: map[string]string{"values.yaml": "greeting: hi\n"}},
		&cruisev1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "site"}, Spec: cruisev1.ApplicationSpec{
			Chart:              &cruisev1.ChartSource{RepoURL: reg.URL(), Name: "site", Version: "1.x", SecretRef: &cruisev1.LocalObjectReference{Name: "oci"}},
			Helm:               &cruisev1.HelmSettings{ValuesFrom: []cruisev1.ValuesReference{{Kind: "Secret", Name: "site-values"}}},
			ServiceAccountName: "deployer", Prune: true, Interval: metav1.Duration{Duration: time.Hour},
		}},
	} {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}

	configMap := func(name string) *corev1.ConfigMap {
		cm := &corev1.ConfigMap{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, cm); err != nil {
			return nil
		}
		return cm
	}
	clustertest.Eventually(t, time.Minute, func() (bool, error) {
		app := &cruisev1.Application{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "site"}, app); err != nil {
			return false, err
		}
		cm := configMap("site-site")
		return ready(app) && cm != nil && cm.Data["greeting"] == "hi", fmt.Errorf("%s", describe(app))
	})
	if cm := configMap("site-prepared"); cm == nil || cm.Data["greeting"] != "hi" {
		t.Error("the pre-install hook did not run")
	}
	kept := &corev1.Secret{}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: helm.GeneratedSecretName("site")}, kept); err != nil {
		t.Fatalf("generated values not kept with the installed RBAC: %v", err)
	}
	password := func() string {
		s := &corev1.Secret{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "site-auth"}, s); err != nil {
			t.Fatal(err)
		}
		return string(s.Data["password"])
	}
	first := password()

	values := &corev1.Secret{}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "site-values"}, values); err != nil {
		t.Fatal(err)
	}
	values.Data["values.yaml"] = []byte("greeting: changed\n")
	if err := k8s.Update(ctx, values); err != nil {
		t.Fatal(err)
	}
	clustertest.Eventually(t, time.Minute, func() (bool, error) {
		cm := configMap("site-site")
		return cm != nil && cm.Data["greeting"] == "changed", fmt.Errorf("values Secret change not synced")
	})
	if cm := configMap("site-prepared"); cm == nil || cm.Data["greeting"] != "changed" {
		t.Error("the pre-upgrade hook did not run with the new values")
	}
	if password() != first {
		t.Error("the generated password changed on the upgrade")
	}
}
