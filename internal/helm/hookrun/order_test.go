package hookrun

import (
	"fmt"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cruisegitops/cruise/internal/apply"
)

// TestSortRuns pins Helm's hook order: weight, then name, then the kind
// install order (unknown kinds last, alphabetically), then input order.
// Each entry is "Kind/name#position in the input".
func TestSortRuns(t *testing.T) {
	type in struct {
		kind, name string
		weight     int
	}
	tests := []struct {
		name string
		in   []in
		want []string
	}{{
		name: "weight first, negative weights included",
		in:   []in{{"Job", "a", 5}, {"Job", "b", -3}, {"Job", "c", 0}},
		want: []string{"Job/b#1", "Job/c#2", "Job/a#0"},
	}, {
		name: "equal weight: name before kind",
		in:   []in{{"ServiceAccount", "z", 0}, {"Job", "a", 0}},
		want: []string{"Job/a#1", "ServiceAccount/z#0"},
	}, {
		name: "equal weight and name: install order of kinds",
		in:   []in{{"Job", "x", 0}, {"ConfigMap", "x", 0}, {"ServiceAccount", "x", 0}, {"Secret", "x", 0}},
		want: []string{"ServiceAccount/x#2", "Secret/x#3", "ConfigMap/x#1", "Job/x#0"},
	}, {
		name: "unknown kinds after known ones, alphabetically",
		in:   []in{{"Widget", "x", 0}, {"Backup", "x", 0}, {"Job", "x", 0}},
		want: []string{"Job/x#2", "Backup/x#1", "Widget/x#0"},
	}, {
		name: "same kind, weight and name keep input order",
		in:   []in{{"Job", "x", 1}, {"Job", "x", 1}},
		want: []string{"Job/x#0", "Job/x#1"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var runs []*run
			for i, x := range tt.in {
				runs = append(runs, &run{ref: apply.ObjRef{Kind: x.kind, Name: x.name}, weight: x.weight, source: fmt.Sprint(i)})
			}
			sortRuns(runs)
			var got []string
			for _, r := range runs {
				got = append(got, r.ref.Kind+"/"+r.ref.Name+"#"+r.source)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("order = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestStates pins how Job and Pod status is read; the cluster tests cover
// the states kwok and the Job controller produce, these the ones they
// cannot (a failed Pod, parallel Jobs).
func TestStates(t *testing.T) {
	tests := []struct {
		name  string
		state func(*unstructured.Unstructured) (bool, string, error)
		obj   map[string]any
		done  bool
		msg   string
		err   string
	}{{
		name:  "job running",
		state: jobState,
		obj:   map[string]any{"status": map[string]any{"active": int64(1)}},
		msg:   "0 of 1 completions, 1 active",
	}, {
		name:  "job complete, completions from parallelism",
		state: jobState,
		obj: map[string]any{"spec": map[string]any{"parallelism": int64(3)}, "status": map[string]any{"succeeded": int64(3),
			"conditions": []any{map[string]any{"type": "Complete", "status": "True"}}}},
		done: true,
		msg:  "3 of 3 completions",
	}, {
		name:  "job failure target is not yet failed",
		state: jobState,
		obj: map[string]any{"status": map[string]any{
			"conditions": []any{map[string]any{"type": "FailureTarget", "status": "True"}}}},
		msg: "0 of 1 completions",
	}, {
		name:  "job failed",
		state: jobState,
		obj: map[string]any{"spec": map[string]any{"completions": int64(2)}, "status": map[string]any{
			"conditions": []any{map[string]any{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}}}},
		msg: "0 of 2 completions",
		err: "BackoffLimitExceeded: Job has reached the specified backoff limit",
	}, {
		name:  "pod pending",
		state: podState,
		obj:   map[string]any{"status": map[string]any{"phase": "Pending"}},
		msg:   "phase Pending",
	}, {
		name:  "pod succeeded",
		state: podState,
		obj:   map[string]any{"status": map[string]any{"phase": "Succeeded"}},
		done:  true,
		msg:   "phase Succeeded",
	}, {
		name:  "pod failed: container exit code",
		state: podState,
		obj: map[string]any{"status": map[string]any{"phase": "Failed", "containerStatuses": []any{
			map[string]any{"name": "ok", "state": map[string]any{"terminated": map[string]any{"exitCode": int64(0)}}},
			map[string]any{"name": "migrate", "state": map[string]any{"terminated": map[string]any{"exitCode": int64(3), "reason": "Error"}}},
		}}},
		msg: "phase Failed",
		err: "container migrate exited with code 3 (Error)",
	}, {
		name:  "pod failed: evicted",
		state: podState,
		obj:   map[string]any{"status": map[string]any{"phase": "Failed", "reason": "Evicted", "message": "low on memory"}},
		msg:   "phase Failed",
		err:   "Evicted: low on memory",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done, msg, err := tt.state(&unstructured.Unstructured{Object: tt.obj})
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if done != tt.done || msg != tt.msg || gotErr != tt.err {
				t.Errorf("state = (%v, %q, %q), want (%v, %q, %q)", done, msg, gotErr, tt.done, tt.msg, tt.err)
			}
		})
	}
}

func TestCheckEvent(t *testing.T) {
	for _, ev := range []string{"pre-install", "post-install", "pre-upgrade", "post-upgrade", "pre-delete", "post-delete"} {
		if err := checkEvent(ev); err != nil {
			t.Errorf("checkEvent(%q) = %v, want nil", ev, err)
		}
	}
	for ev, want := range map[string]string{
		"test":          `hook event "test": test hooks never run on apply (they are for helm test)`,
		"pre-rollback":  `hook event "pre-rollback": cruise rolls back by applying an earlier revision, which runs the upgrade hooks`,
		"post-rollback": `hook event "post-rollback": cruise rolls back by applying an earlier revision, which runs the upgrade hooks`,
		"pre-instal":    `unknown hook event "pre-instal" (want one of pre-install, post-install, pre-upgrade, post-upgrade, pre-delete, post-delete)`,
	} {
		if err := checkEvent(ev); err == nil || err.Error() != want {
			t.Errorf("checkEvent(%q) = %v, want %s", ev, err, want)
		}
	}
}
