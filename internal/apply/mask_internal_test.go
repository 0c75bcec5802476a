package apply

import (
	"reflect"
	"testing"
)

func TestMaskSensitive(t *testing.T) {
	id := func(extra map[string]any) map[string]any {
		m := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "n", "namespace": "ns", "labels": map[string]any{"a": "x"}}}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	maskedID := func(extra map[string]any) map[string]any {
		m := id(extra)
		m["metadata"].(map[string]any)["labels"] = map[string]any{"a": masked}
		return m
	}
	tests := []struct {
		name                 string
		live, desired        map[string]any
		wantLive, wantDesire map[string]any
	}{
		{"created", nil, id(map[string]any{"data": map[string]any{"k": "v"}}),
			nil, maskedID(map[string]any{"data": map[string]any{"k": masked}})},
		{"a changed and an equal value",
			id(map[string]any{"data": map[string]any{"k": "old", "same": "s"}}),
			id(map[string]any{"data": map[string]any{"k": "new", "same": "s"}}),
			maskedID(map[string]any{"data": map[string]any{"k": maskedBefore, "same": masked}}),
			maskedID(map[string]any{"data": map[string]any{"k": maskedAfter, "same": masked}})},
		{"added and removed keys",
			id(map[string]any{"data": map[string]any{"gone": "g"}}),
			id(map[string]any{"data": map[string]any{"new": "n"}}),
			maskedID(map[string]any{"data": map[string]any{"gone": masked}}),
			maskedID(map[string]any{"data": map[string]any{"new": masked}})},
		{"lists of different lengths and shapes",
			id(map[string]any{"spec": map[string]any{"l": []any{"a", map[string]any{"x": int64(1)}}, "s": "scalar"}}),
			id(map[string]any{"spec": map[string]any{"l": []any{"b", map[string]any{"x": int64(1)}, "c"}, "s": map[string]any{"now": "map"}}}),
			maskedID(map[string]any{"spec": map[string]any{"l": []any{maskedBefore, map[string]any{"x": masked}}, "s": maskedBefore}}),
			maskedID(map[string]any{"spec": map[string]any{"l": []any{maskedAfter, map[string]any{"x": masked}, masked}, "s": map[string]any{"now": maskedAfter}}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gl, gd := maskSensitive(tt.live, tt.desired)
			if !reflect.DeepEqual(gl, tt.wantLive) || !reflect.DeepEqual(gd, tt.wantDesire) {
				t.Errorf("got\n %v\n %v\nwant\n %v\n %v", gl, gd, tt.wantLive, tt.wantDesire)
			}
		})
	}
}
