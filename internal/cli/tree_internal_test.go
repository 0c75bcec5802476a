package cli

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cruisegitops/cruise/api/v1alpha1"
)

func TestRenderTree(t *testing.T) {
	app := func(status v1alpha1.ApplicationStatus) *v1alpha1.Application {
		a := &v1alpha1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web"}, Status: status}
		return a
	}
	res := func(group, kind, ns, name, health, sync, msg string) v1alpha1.ResourceStatus {
		return v1alpha1.ResourceStatus{ObjectRef: v1alpha1.ObjectRef{Group: group, Version: "v1", Kind: kind, Namespace: ns, Name: name},
			Health: health, Sync: sync, Message: msg}
	}
	ready := []metav1.Condition{{Type: "Ready", Status: "True", Reason: "Succeeded"}}
	cases := []struct {
		name string
		app  *v1alpha1.Application
		want string
	}{
		{"grouped by namespace", app(v1alpha1.ApplicationStatus{
			Conditions:          ready,
			LastAppliedRevision: "main@sha1:0123456789abcdef0123456789abcdef01234567",
			Resources: []v1alpha1.ResourceStatus{
				res("apps", "Deployment", "demo", "web", "InProgress", "Synced", "Deployment does not have\nminimum availability"),
				res("", "Service", "other", "web", "Current", "Synced", ""),
				res("", "Namespace", "", "demo", "Current", "Synced", ""),
				res("", "ConfigMap", "demo", "web-config", "Current", "OutOfSync", ""),
				res("rbac.authorization.k8s.io", "ClusterRole", "", "web-reader", "Current", "Synced", ""),
			},
		}), `Application/apps/web (Ready: True, revision main@sha1:0123456789ab)
├── ClusterRole/web-reader     Current      Synced
├── Namespace/demo             Current      Synced
│   ├── ConfigMap/web-config   Current      OutOfSync
│   └── Deployment/web         InProgress   Synced      Deployment does not have minimum availability
└── Namespace/other                                     (not managed by this Application)
    └── Service/web            Current      Synced
`},
		{"inventory before health is known", app(v1alpha1.ApplicationStatus{
			Inventory: []v1alpha1.ObjectRef{
				{Version: "v1", Kind: "ConfigMap", Namespace: "apps", Name: "b"},
				{Version: "v1", Kind: "ConfigMap", Namespace: "apps", Name: "a"},
			},
		}), `Application/apps/web (Ready: Unknown)
└── Namespace/apps          (not managed by this Application)
    ├── ConfigMap/a
    └── ConfigMap/b
`},
		{"nothing applied, suspended", func() *v1alpha1.Application {
			a := app(v1alpha1.ApplicationStatus{})
			a.Spec.Suspend = true
			return a
		}(), `Application/apps/web (Ready: Unknown, suspended)
└── (no objects applied yet)
`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := renderTree(c.app); got != c.want {
				t.Errorf("renderTree:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}
