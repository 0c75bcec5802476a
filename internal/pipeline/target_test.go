package pipeline

import (
	"context"
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/apply"
)

// memInventory is an inventory that is only compared, never used.
type memInventory struct{ name string }

func (memInventory) Load(context.Context) ([]apply.ObjRef, error) { return nil, nil }
func (memInventory) Store(context.Context, []apply.ObjRef) error  { return nil }

func app(edit func(*v1alpha1.ApplicationSpec)) *v1alpha1.Application {
	a := &v1alpha1.Application{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"},
		Spec:       v1alpha1.ApplicationSpec{Path: "apps/web"},
	}
	if edit != nil {
		edit(&a.Spec)
	}
	return a
}

func TestTargetOf(t *testing.T) {
	no, yes := false, true
	owner := apply.Owner{Name: "web", Namespace: "shop"}
	inShop := apply.Namespaces{Default: "shop"}
	tests := []struct {
		name  string
		edit  func(*v1alpha1.ApplicationSpec)
		want  Target
		apply apply.ApplyOptions // Inventory is filled in by the test
		diff  apply.DiffOptions
	}{
		{
			name:  "defaults: wait 5m, no prune, no force",
			want:  Target{Owner: owner, Namespaces: inShop, Wait: true, Timeout: 5 * time.Minute},
			apply: apply.ApplyOptions{Owner: owner, Namespaces: inShop, WaitTimeout: 5 * time.Minute},
			diff:  apply.DiffOptions{Owner: owner, Namespaces: inShop},
		},
		{
			name: "target namespace",
			edit: func(s *v1alpha1.ApplicationSpec) { s.TargetNamespace = "prod" },
			want: Target{Owner: owner, Namespaces: apply.Namespaces{Default: "shop", Target: "prod"}, Wait: true, Timeout: 5 * time.Minute},
			apply: apply.ApplyOptions{Owner: owner, Namespaces: apply.Namespaces{Default: "shop", Target: "prod"},
				WaitTimeout: 5 * time.Minute},
			diff: apply.DiffOptions{Owner: owner, Namespaces: apply.Namespaces{Default: "shop", Target: "prod"}},
		},
		{
			name:  "prune: the diff reports what would be pruned",
			edit:  func(s *v1alpha1.ApplicationSpec) { s.Prune = true },
			want:  Target{Owner: owner, Namespaces: inShop, Prune: true, Wait: true, Timeout: 5 * time.Minute},
			apply: apply.ApplyOptions{Owner: owner, Namespaces: inShop, Prune: true, WaitTimeout: 5 * time.Minute},
			diff:  apply.DiffOptions{Owner: owner, Namespaces: inShop, Prune: true},
		},
		{
			name:  "force: not a diff option",
			edit:  func(s *v1alpha1.ApplicationSpec) { s.Force = true },
			want:  Target{Owner: owner, Namespaces: inShop, Force: true, Wait: true, Timeout: 5 * time.Minute},
			apply: apply.ApplyOptions{Owner: owner, Namespaces: inShop, Force: true, WaitTimeout: 5 * time.Minute},
			diff:  apply.DiffOptions{Owner: owner, Namespaces: inShop},
		},
		{
			name:  "wait off: no wait timeout, the timeout still bounds the sync",
			edit:  func(s *v1alpha1.ApplicationSpec) { s.Wait = &no },
			want:  Target{Owner: owner, Namespaces: inShop, Timeout: 5 * time.Minute},
			apply: apply.ApplyOptions{Owner: owner, Namespaces: inShop},
			diff:  apply.DiffOptions{Owner: owner, Namespaces: inShop},
		},
		{
			name:  "wait on, said so",
			edit:  func(s *v1alpha1.ApplicationSpec) { s.Wait = &yes },
			want:  Target{Owner: owner, Namespaces: inShop, Wait: true, Timeout: 5 * time.Minute},
			apply: apply.ApplyOptions{Owner: owner, Namespaces: inShop, WaitTimeout: 5 * time.Minute},
			diff:  apply.DiffOptions{Owner: owner, Namespaces: inShop},
		},
		{
			name:  "timeout",
			edit:  func(s *v1alpha1.ApplicationSpec) { s.Timeout = &metav1.Duration{Duration: 90 * time.Second} },
			want:  Target{Owner: owner, Namespaces: inShop, Wait: true, Timeout: 90 * time.Second},
			apply: apply.ApplyOptions{Owner: owner, Namespaces: inShop, WaitTimeout: 90 * time.Second},
			diff:  apply.DiffOptions{Owner: owner, Namespaces: inShop},
		},
		{
			name:  "zero timeout means the default",
			edit:  func(s *v1alpha1.ApplicationSpec) { s.Timeout = &metav1.Duration{} },
			want:  Target{Owner: owner, Namespaces: inShop, Wait: true, Timeout: 5 * time.Minute},
			apply: apply.ApplyOptions{Owner: owner, Namespaces: inShop, WaitTimeout: 5 * time.Minute},
			diff:  apply.DiffOptions{Owner: owner, Namespaces: inShop},
		},
		{
			name:  "negative timeout means the default",
			edit:  func(s *v1alpha1.ApplicationSpec) { s.Timeout = &metav1.Duration{Duration: -time.Second} },
			want:  Target{Owner: owner, Namespaces: inShop, Wait: true, Timeout: 5 * time.Minute},
			apply: apply.ApplyOptions{Owner: owner, Namespaces: inShop, WaitTimeout: 5 * time.Minute},
			diff:  apply.DiffOptions{Owner: owner, Namespaces: inShop},
		},
		{
			name: "timeout without wait",
			edit: func(s *v1alpha1.ApplicationSpec) {
				s.Wait, s.Timeout = &no, &metav1.Duration{Duration: time.Minute}
			},
			want:  Target{Owner: owner, Namespaces: inShop, Timeout: time.Minute},
			apply: apply.ApplyOptions{Owner: owner, Namespaces: inShop},
			diff:  apply.DiffOptions{Owner: owner, Namespaces: inShop},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := memInventory{name: tt.name}
			got := TargetOf(app(tt.edit))
			if got != tt.want {
				t.Fatalf("TargetOf = %+v\nwant      %+v", got, tt.want)
			}
			tt.apply.Inventory, tt.diff.Inventory = inv, inv
			if o := got.ApplyOptions(inv); !reflect.DeepEqual(o, tt.apply) {
				t.Errorf("ApplyOptions = %+v\nwant           %+v", o, tt.apply)
			}
			if o := got.DiffOptions(inv); o != tt.diff {
				t.Errorf("DiffOptions = %+v\nwant          %+v", o, tt.diff)
			}
		})
	}
}

// A Target filled by hand (the push commands) without a timeout waits the
// default time, not forever nor not at all.
func TestTargetWaitWithoutTimeout(t *testing.T) {
	for _, timeout := range []time.Duration{0, -time.Second} {
		o := Target{Wait: true, Timeout: timeout}.ApplyOptions(nil)
		if o.WaitTimeout != DefaultTimeout {
			t.Errorf("Timeout %s: WaitTimeout = %s, want %s", timeout, o.WaitTimeout, DefaultTimeout)
		}
	}
	if o := (Target{Timeout: time.Minute}).ApplyOptions(nil); o.WaitTimeout != 0 {
		t.Errorf("Wait off: WaitTimeout = %s, want 0", o.WaitTimeout)
	}
}
