package helmtest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// CruisePrefix starts the only label and annotation keys cruise may add to
// what Helm renders; EqualObjects ignores them.
const CruisePrefix = "cruise.dev/"

// EqualObjects reports, as test errors, every difference between want
// (usually Helm's rendering) and got (cruise's): objects missing from got,
// objects got has in addition, duplicates, and for objects in both every
// field that differs, by path (`spec.template.spec.containers[0].image`).
// Objects are matched by Key, so order does not matter. Labels and
// annotations whose key starts with cruise.dev/ are ignored on both sides;
// nothing else is. It returns whether the two sets are equal.
func EqualObjects(t testing.TB, want, got []*unstructured.Unstructured) bool {
	t.Helper()
	diffs := DiffObjects(want, got)
	for _, d := range diffs {
		t.Error(d)
	}
	return len(diffs) == 0
}

// DiffObjects is EqualObjects' comparison: one readable line per
// difference, sorted by object; nil when the sets are equal.
func DiffObjects(want, got []*unstructured.Unstructured) []string {
	var diffs []string
	wantBy, dups := index(want, "want")
	diffs = append(diffs, dups...)
	gotBy, dups := index(got, "got")
	diffs = append(diffs, dups...)

	keys := make([]string, 0, len(wantBy)+len(gotBy))
	for k := range wantBy {
		keys = append(keys, k)
	}
	for k := range gotBy {
		if _, ok := wantBy[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		w, inWant := wantBy[k]
		g, inGot := gotBy[k]
		switch {
		case !inGot:
			diffs = append(diffs, k+": missing (want has it, got does not)")
		case !inWant:
			diffs = append(diffs, k+": unexpected (got has it, want does not)")
		default:
			for _, d := range diffValues("", withoutCruiseKeys(w.Object), withoutCruiseKeys(g.Object)) {
				diffs = append(diffs, k+": "+d)
			}
		}
	}
	return diffs
}

func index(objs []*unstructured.Unstructured, side string) (map[string]*unstructured.Unstructured, []string) {
	by := make(map[string]*unstructured.Unstructured, len(objs))
	var dups []string
	for _, o := range objs {
		k := Key(o)
		if _, ok := by[k]; ok {
			dups = append(dups, k+": twice in "+side)
			continue
		}
		by[k] = o
	}
	return by, dups
}

// withoutCruiseKeys is a copy of obj without cruise.dev/ labels and
// annotations, and without metadata.labels or metadata.annotations when
// only such keys were in them.
func withoutCruiseKeys(obj map[string]any) map[string]any {
	u := &unstructured.Unstructured{Object: obj}
	u = u.DeepCopy()
	for _, field := range []string{"labels", "annotations"} {
		m, ok, _ := unstructured.NestedFieldNoCopy(u.Object, "metadata", field)
		mm, isMap := m.(map[string]any)
		if !ok || !isMap {
			continue
		}
		had := len(mm)
		for k := range mm {
			if strings.HasPrefix(k, CruisePrefix) {
				delete(mm, k)
			}
		}
		if len(mm) == 0 && had > 0 {
			unstructured.RemoveNestedField(u.Object, "metadata", field)
		}
	}
	return u.Object
}

// diffValues lists the differences between want and got below path.
func diffValues(path string, want, got any) []string {
	if n1, ok := number(want); ok {
		if n2, ok := number(got); ok && n1 == n2 {
			return nil
		}
		return []string{mismatch(path, want, got)}
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{mismatch(path, want, got)}
		}
		keys := make([]string, 0, len(w)+len(g))
		for k := range w {
			keys = append(keys, k)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		var diffs []string
		for _, k := range keys {
			p := join(path, k)
			wv, inW := w[k]
			gv, inG := g[k]
			switch {
			case !inG:
				diffs = append(diffs, p+": missing, want "+show(wv))
			case !inW:
				diffs = append(diffs, p+": unexpected, got "+show(gv))
			default:
				diffs = append(diffs, diffValues(p, wv, gv)...)
			}
		}
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{mismatch(path, want, got)}
		}
		if len(w) != len(g) {
			return []string{fmt.Sprintf("%s: %d items, want %d: got %s, want %s", orRoot(path), len(g), len(w), show(g), show(w))}
		}
		var diffs []string
		for i := range w {
			diffs = append(diffs, diffValues(path+"["+strconv.Itoa(i)+"]", w[i], g[i])...)
		}
		return diffs
	default:
		if reflect.DeepEqual(want, got) {
			return nil
		}
		return []string{mismatch(path, want, got)}
	}
}

// number is v as a float64 when it is a number of any Go type a decoder
// may have produced (YAML and JSON decoders differ: int64, float64,
// json.Number), so that 2 and 2.0 compare equal.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case float32:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// join appends key to path, quoting keys that hold dots (annotation keys)
// so the path stays readable.
func join(path, key string) string {
	if strings.ContainsAny(key, ".[] ") {
		key = "[" + strconv.Quote(key) + "]"
		return path + key
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func orRoot(path string) string {
	if path == "" {
		return "(object)"
	}
	return path
}

func mismatch(path string, want, got any) string {
	return orRoot(path) + ": got " + show(got) + ", want " + show(want)
}

// show is v as compact JSON, cut to keep a report readable.
func show(v any) string {
	b, err := json.Marshal(v)
	s := string(b)
	if err != nil {
		s = fmt.Sprintf("%#v", v)
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
