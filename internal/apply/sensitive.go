package apply

import (
	"errors"
	"reflect"
	"sort"
	"strings"
)

// Objects that render marks Sensitive hold values decrypted from SOPS
// files. Whatever kind they are, their values are masked in diffs (as a
// Secret's data are) and scrubbed from the API server's error messages,
// which quote invalid values.

// identityFields stay visible in a sensitive object's diff: they name the
// object, which the diff's header shows anyway.
var identityFields = [][]string{{"apiVersion"}, {"kind"}, {"metadata", "name"}, {"metadata", "namespace"}}

// Markers a masked value is replaced with.
const (
	masked       = "***"
	maskedBefore = "*** (before)"
	maskedAfter  = "*** (after)"
)

// maskSensitive replaces every value of both versions of a sensitive
// object but its identity: "***" where they agree, "*** (before)" and
// "*** (after)" where they differ. Keys and list lengths stay, so the
// diff shows where the object changed and never what it holds. Either
// map may be nil (the object is missing on that side).
func maskSensitive(live, desired map[string]any) (map[string]any, map[string]any) {
	ids := make([]any, 0, 2*len(identityFields))
	for _, m := range []map[string]any{live, desired} {
		for _, f := range identityFields {
			ids = append(ids, lookup(m, f))
		}
	}
	var a, b any = absent{}, absent{}
	if live != nil {
		a = live
	}
	if desired != nil {
		b = desired
	}
	ma, mb := maskPair(a, b)
	out := [2]map[string]any{}
	for i, v := range []any{ma, mb} {
		if m, ok := v.(map[string]any); ok {
			out[i] = m
			for j, f := range identityFields {
				if id := ids[i*len(identityFields)+j]; id != nil {
					restore(m, f, id)
				}
			}
		}
	}
	return out[0], out[1]
}

// absent stands for a value missing on one side.
type absent struct{}

func maskPair(a, b any) (any, any) {
	if am, ok := a.(map[string]any); ok {
		if bm, ok := b.(map[string]any); ok {
			ma, mb := make(map[string]any, len(am)), make(map[string]any, len(bm))
			for _, k := range unionKeys(am, bm) {
				va, inA := am[k]
				vb, inB := bm[k]
				if !inA {
					va = absent{}
				}
				if !inB {
					vb = absent{}
				}
				na, nb := maskPair(va, vb)
				if inA {
					ma[k] = na
				}
				if inB {
					mb[k] = nb
				}
			}
			return ma, mb
		}
	}
	if al, ok := a.([]any); ok {
		if bl, ok := b.([]any); ok {
			la, lb := make([]any, len(al)), make([]any, len(bl))
			for i := 0; i < max(len(al), len(bl)); i++ {
				switch {
				case i >= len(al):
					lb[i] = maskAll(bl[i], masked)
				case i >= len(bl):
					la[i] = maskAll(al[i], masked)
				default:
					la[i], lb[i] = maskPair(al[i], bl[i])
				}
			}
			return la, lb
		}
	}
	_, noA := a.(absent)
	_, noB := b.(absent)
	switch {
	case noA && noB:
		return a, b
	case noA:
		return a, maskAll(b, masked)
	case noB:
		return maskAll(a, masked), b
	case reflect.DeepEqual(a, b):
		return maskAll(a, masked), maskAll(b, masked)
	}
	return maskAll(a, maskedBefore), maskAll(b, maskedAfter)
}

// maskAll replaces every leaf of v by marker.
func maskAll(v any, marker string) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = maskAll(e, marker)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = maskAll(e, marker)
		}
		return out
	}
	return marker
}

func unionKeys(a, b map[string]any) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

func lookup(m map[string]any, path []string) any {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[p]
	}
	return v
}

func restore(m map[string]any, path []string, v any) {
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			return
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

// minScrubbed is the shortest value scrubbed from messages: shorter ones
// ("1", "on") would garble every word.
const minScrubbed = 4

// scrub returns err with every string value of a sensitive object's
// content removed from its message; the apply sentinels it matched still
// match. Other errors come back as they are.
func (it *item) scrub(err error) error {
	if !it.sensitive || err == nil {
		return err
	}
	msg := err.Error()
	var values []string
	collectStrings(it.obj.Object, &values)
	// Longest first, so a value containing another is replaced whole.
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	for _, v := range values {
		if len(v) >= minScrubbed {
			msg = strings.ReplaceAll(msg, v, masked)
		}
	}
	if msg == err.Error() {
		return err
	}
	s := &scrubbedError{msg: msg}
	for _, sentinel := range []error{ErrInvalid, ErrUnknownKind, ErrImmutable, ErrForbidden, ErrUnhealthy} {
		if errors.Is(err, sentinel) {
			s.kinds = append(s.kinds, sentinel)
		}
	}
	return s
}

// scrubbedError is an error whose message had values removed; it unwraps
// only to the sentinels, whose messages quote nothing.
type scrubbedError struct {
	msg   string
	kinds []error
}

func (e *scrubbedError) Error() string   { return e.msg }
func (e *scrubbedError) Unwrap() []error { return e.kinds }

// collectStrings gathers the string values of obj but its identity.
func collectStrings(v any, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			collectStrings(e, out)
		}
	case []any:
		for _, e := range v {
			collectStrings(e, out)
		}
	case string:
		*out = append(*out, v)
	}
}
