package controller_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
)

// TestDeleteApplication: deleting an Application prunes what it applied
// when prune is on, keeps it when off, and, when the ServiceAccount it
// applies as (or the RoleBinding that lets it delete) is gone, lets the
// Application go without pruning instead of keeping it Terminating.
func TestDeleteApplication(t *testing.T) {
	for _, tc := range []struct {
		name          string
		prune         bool
		tenant        bool          // apply as the ServiceAccount "tenant"
		remove        client.Object // deleted before the Application
		objectsRemain bool
		warning       string // reason of the Warning event expected
	}{
		{name: "prune", prune: true},
		{name: "no-prune", prune: false, objectsRemain: true},
		{name: "tenant-prune", prune: true, tenant: true},
		{name: "serviceaccount-gone", prune: true, tenant: true, remove: &corev1.ServiceAccount{},
			objectsRemain: true, warning: cruisev1.ReasonPruneSkipped},
		{name: "rolebinding-gone", prune: true, tenant: true, remove: &rbacv1.RoleBinding{},
			objectsRemain: true, warning: cruisev1.ReasonPruneSkipped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			rev := f.commit("apps", map[string]string{"app/a.yaml": cmYAML("a", "x"), "app/b.yaml": cmYAML("b", "x")})
			if tc.tenant {
				tenant(t, f.ns)
			}
			f.source()
			f.app("web", "app", func(s *cruisev1.ApplicationSpec) {
				s.Prune = tc.prune
				if tc.tenant {
					s.ServiceAccountName = "tenant"
				}
			})
			f.waitReady("web", rev)
			if tc.remove != nil {
				tc.remove.SetNamespace(f.ns)
				tc.remove.SetName("tenant")
				if err := k8s.Delete(t.Context(), tc.remove); err != nil {
					t.Fatal(err)
				}
			}

			if err := k8s.Delete(t.Context(), f.getApp("web")); err != nil {
				t.Fatal(err)
			}
			f.eventually("Application deleted", func() (bool, string) {
				err := k8s.Get(t.Context(), types.NamespacedName{Namespace: f.ns, Name: "web"}, &cruisev1.Application{})
				if apierrors.IsNotFound(err) {
					return true, ""
				}
				return false, "still there"
			})
			for _, name := range []string{"a", "b"} {
				if remains := f.configMap(name) != nil; remains != tc.objectsRemain {
					t.Errorf("ConfigMap %s remains: %v, want %v", name, remains, tc.objectsRemain)
				}
			}
			if tc.warning != "" {
				f.eventually("a Warning event "+tc.warning, func() (bool, string) {
					return len(f.events("web", tc.warning)) > 0, "none"
				})
			}
		})
	}
}

// tenant creates the ServiceAccount "tenant" with a Role that lets it
// manage ConfigMaps in ns.
func tenant(t *testing.T, ns string) {
	t.Helper()
	objs := []client.Object{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "tenant", Namespace: ns}},
		&rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: "tenant", Namespace: ns},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"},
				Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}}},
		},
		&rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "tenant", Namespace: ns},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "tenant"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "tenant", Namespace: ns}},
		},
	}
	for _, o := range objs {
		if err := k8s.Create(t.Context(), o); err != nil {
			t.Fatalf("create %T: %v", o, err)
		}
	}
}
