package cli

import (
	"errors"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// When waiting for a reconcile request is over, and how it ended.
func TestReconcileOutcome(t *testing.T) {
	const at = "2026-11-26T10:00:00.123456789Z"
	cond := func(status metav1.ConditionStatus, reason, msg string, gen int64) *metav1.Condition {
		return &metav1.Condition{Status: status, Reason: reason, Message: msg, ObservedGeneration: gen}
	}
	cases := []struct {
		name    string
		s       objectStatus
		done    bool
		wantErr string // empty: success or still waiting
	}{
		{"not handled yet", objectStatus{LastHandledReconcileAt: "earlier", Ready: cond("True", "Succeeded", "", 1), Generation: 1}, false, ""},
		{"handled, no Ready condition", objectStatus{LastHandledReconcileAt: at}, false, ""},
		{"handled and Ready", objectStatus{LastHandledReconcileAt: at, Ready: cond("True", "Succeeded", "", 2), Generation: 2}, true, ""},
		{"Ready without observedGeneration", objectStatus{LastHandledReconcileAt: at, Ready: cond("True", "Succeeded", "", 0), Generation: 2}, true, ""},
		{"Ready for an older generation", objectStatus{LastHandledReconcileAt: at, Ready: cond("True", "Succeeded", "", 1), Generation: 2}, false, ""},
		{"not Ready, retrying", objectStatus{LastHandledReconcileAt: at, Ready: cond("False", "ApplyFailed", "conflict", 2), Generation: 2}, false, ""},
		{"not Ready and stalled", objectStatus{Kind: kindApplication, Namespace: "apps", Name: "web", LastHandledReconcileAt: at,
			Ready:   cond("False", "RenderFailed", "kustomization.yaml:\n  bad", 2),
			Stalled: cond("True", "RenderFailed", "", 2), Generation: 2},
			true, "Application/apps/web is stalled: False, RenderFailed: kustomization.yaml: bad"},
		{"stalled but Ready unknown", objectStatus{LastHandledReconcileAt: at, Ready: cond("Unknown", "Progressing", "", 2),
			Stalled: cond("True", "X", "", 2), Generation: 2}, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			done, err := reconcileOutcome(c.s, at)
			if done != c.done {
				t.Errorf("done = %v, want %v", done, c.done)
			}
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case c.wantErr != "":
				var ee *ExitError
				if !errors.As(err, &ee) || ee.Code != 1 || err.Error() != c.wantErr {
					t.Errorf("error %v, want exit code 1 with %q", err, c.wantErr)
				}
			}
		})
	}
}
