package helm_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cruisegitops/cruise/internal/helm"
	"github.com/cruisegitops/cruise/internal/helm/helmtest"
	"github.com/cruisegitops/cruise/internal/render"
)

// TestRenderMatchesHelmTemplate: the vendored real charts render to
// exactly the objects `helm template --include-crds` prints (CRDs,
// templates and hooks), with the same # Source comments. A List helm
// prints is compared as its items, which is what cruise applies. Objects whose
// names hold a value generated at random (podinfo's test Pods) cannot
// match between two renders and are compared by count.
func TestRenderMatchesHelmTemplate(t *testing.T) {
	for _, tc := range []struct {
		chart      string
		valuesFile string
		sets       []string
	}{
		{chart: "podinfo"},
		{chart: "podinfo", valuesFile: "podinfo/values-prod.yaml"},
		{chart: "ingress-nginx"},
		{chart: "traefik"},
		{chart: "prometheus"},
		{chart: "kube-prometheus-stack", valuesFile: "kube-prometheus-stack.large-values.yaml", sets: []string{"grafana.adminPassword=fixed"}},
	} {
		t.Run(tc.chart+"/"+filepath.Base(tc.valuesFile), func(t *testing.T) {
			dir := helmtest.Chart(t, tc.chart)
			args := []string{"rel", dir, "--namespace", "prod", "--kube-version", helm.DefaultKubeVersion, "--include-crds"}
			var vals helm.Values
			if tc.valuesFile != "" {
				p := filepath.Join(filepath.Dir(dir), tc.valuesFile)
				args = append(args, "--values", p)
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if err := vals.AddFile(tc.valuesFile, data); err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range tc.sets {
				args = append(args, "--set", s)
				if err := vals.Set(s); err != nil {
					t.Fatal(err)
				}
			}
			want := helmtest.Template(t, args...)

			ch, _, err := helm.LoadDir(filepath.Dir(dir), filepath.Base(dir), helm.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			rel, err := helm.Render(t.Context(), ch, helm.Options{ReleaseName: "rel", Namespace: "prod", Values: vals.Map()})
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := render.WriteYAML(&got, rel.BuildObjects()); err != nil {
				t.Fatal(err)
			}
			wantObjs, wantRandom := splitRandom(helmtest.Objects(t, want))
			gotObjs, gotRandom := splitRandom(helmtest.Objects(t, got.Bytes()))
			if len(wantObjs) == 0 {
				t.Fatal("helm printed nothing")
			}
			helmtest.EqualObjects(t, wantObjs, gotObjs)
			if wantRandom != gotRandom {
				t.Errorf("%d objects with generated names, helm printed %d", gotRandom, wantRandom)
			}
			wantSrc, gotSrc := helmtest.Sources(t, want), helmtest.Sources(t, got.Bytes())
			for k, s := range wantSrc {
				if g, ok := gotSrc[k]; ok && g != s {
					t.Errorf("%s: # Source %s, helm says %s", k, g, s)
				}
			}
		})
	}
}

func splitRandom(objs []*unstructured.Unstructured) (fixed []*unstructured.Unstructured, random int) {
	var flat []*unstructured.Unstructured
	for _, o := range objs {
		if o.IsList() {
			l, err := o.ToList()
			if err != nil {
				panic(err)
			}
			for i := range l.Items {
				flat = append(flat, &l.Items[i])
			}
			continue
		}
		flat = append(flat, o)
	}
	for _, o := range flat {
		if strings.Contains(o.GetName(), "-test-") && o.GetKind() == "Pod" {
			random++
			continue
		}
		fixed = append(fixed, o)
	}
	return fixed, random
}
