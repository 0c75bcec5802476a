package cli_test

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cruisegitops/cruise/api/v1alpha1"
)

// tree shows what the Application's status records (written here as the
// controller would); renderTree's layout has a table test of its own.
func TestTreeApp(t *testing.T) {
	t.Parallel()
	k := newKubeTest(t)
	k.createSourceAndApp(t, "web")

	r := k.run(t, 0, "tree", "app", "web")
	if want := "Application/" + k.ns + "/web (Ready: Unknown)\n└── (no objects applied yet)\n"; r.stdout != want {
		t.Errorf("tree before any sync: %q, want %q", r.stdout, want)
	}

	k.setAppStatus(t, "web", v1alpha1.ApplicationStatus{
		LastAppliedRevision: "main@sha1:abc1230000000000000000000000000000000000",
		Conditions:          []metav1.Condition{readyCondition(metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "Applied")},
		Resources: []v1alpha1.ResourceStatus{
			{ObjectRef: v1alpha1.ObjectRef{Version: "v1", Kind: "Namespace", Name: "demo"}, Health: "Current", Sync: "Synced"},
			{ObjectRef: v1alpha1.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "demo", Name: "web"},
				Health: "InProgress", Sync: "Synced", Message: "Available: 0/1"},
		},
	})
	r = k.run(t, 0, "tree", "application", "web")
	want := "Application/" + k.ns + "/web (Ready: True, revision main@sha1:abc123000000)\n" +
		"└── Namespace/demo       Current      Synced\n" +
		"    └── Deployment/web   InProgress   Synced   Available: 0/1\n"
	if r.stdout != want {
		t.Errorf("tree:\n%s\nwant:\n%s", r.stdout, want)
	}
}
