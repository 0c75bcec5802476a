package helm

import (
	"bytes"
	"errors"
	"fmt"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/strvals"
)

// ErrInvalidValues: a values file, map or --set expression cannot be read.
var ErrInvalidValues = errors.New("invalid values")

// Values collects the values a user gives a chart, layer by layer, later
// layers winning key by key as with `helm -f a.yaml -f b.yaml --set k=v`.
// The chart's own values.yaml is not a layer: Render coalesces it under
// them, as Helm does. The zero value is empty and usable.
type Values struct {
	m map[string]any
}

// AddFile merges a values file; name names it in errors.
func (v *Values) AddFile(name string, data []byte) error {
	m, err := loader.LoadValues(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("values file %s: %w: %w", name, ErrInvalidValues, err)
	}
	v.AddMap(m)
	return nil
}

// AddMap merges a map of values (inline values of an Application).
func (v *Values) AddMap(m map[string]any) {
	if v.m == nil {
		v.m = map[string]any{}
	}
	v.m = loader.MergeMaps(v.m, m)
}

// Set applies one --set expression in Helm's syntax (a.b=c,d[0]=e).
func (v *Values) Set(expr string) error {
	if v.m == nil {
		v.m = map[string]any{}
	}
	if err := strvals.ParseInto(expr, v.m); err != nil {
		return fmt.Errorf("--set %s: %w: %w", expr, ErrInvalidValues, err)
	}
	return nil
}

// Map returns the merged values; the caller must not change it.
func (v *Values) Map() map[string]any {
	if v.m == nil {
		return map[string]any{}
	}
	return v.m
}
