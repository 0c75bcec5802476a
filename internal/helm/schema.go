package helm

import (
	"encoding/json"
	"fmt"
	"strings"

	chart "helm.sh/helm/v4/pkg/chart/v2"
)

// checkSchemas refuses a values.schema.json, in ch or any dependency,
// that refers to anything but a part of itself ("#/$defs/x"). Helm's
// validator would fetch an http(s) URL, so a chart could make the
// controller send requests from inside the cluster to any address (a
// cloud metadata endpoint, an internal service), and it resolves a
// relative or file: reference against the root of the file system, which
// would read the controller's files. Meta-schemas ($schema) are built
// into the validator and never fetched, so they are fine.
func checkSchemas(ch *chart.Chart) error {
	if len(ch.Schema) > 0 {
		var doc any
		if err := json.Unmarshal(ch.Schema, &doc); err != nil {
			return fmt.Errorf("%s/values.schema.json: %w: %w", ch.ChartFullPath(), ErrRender, err)
		}
		if ref := remoteRef(doc); ref != "" {
			return fmt.Errorf("%s/values.schema.json refers to %s: a schema may refer only to parts of itself (#/...), nothing is fetched or read for it: %w", ch.ChartFullPath(), ref, ErrRender)
		}
	}
	for _, dep := range ch.Dependencies() {
		if err := checkSchemas(dep); err != nil {
			return err
		}
	}
	return nil
}

func remoteRef(v any) string {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && (k == "$ref" || k == "$dynamicRef") && !strings.HasPrefix(s, "#") {
				return s
			}
			if r := remoteRef(x); r != "" {
				return r
			}
		}
	case []any:
		for _, x := range v {
			if r := remoteRef(x); r != "" {
				return r
			}
		}
	}
	return ""
}
