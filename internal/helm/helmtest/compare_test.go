package helmtest

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const stream = `---
# Source: web/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: web
  labels:
    app: web
spec:
  ports:
  - port: 80
    targetPort: 8080
---
# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
  annotations:
    example.com/owner: team
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: web
        image: web:1.0
`

func TestDiffObjects(t *testing.T) {
	tests := []struct {
		name   string
		change func(got []*unstructured.Unstructured) []*unstructured.Unstructured
		want   []string // substrings, one per expected difference, in order
	}{
		{
			name:   "equal",
			change: func(got []*unstructured.Unstructured) []*unstructured.Unstructured { return got },
		},
		{
			name: "order does not matter",
			change: func(got []*unstructured.Unstructured) []*unstructured.Unstructured {
				return []*unstructured.Unstructured{got[1], got[0]}
			},
		},
		{
			name: "cruise.dev labels and annotations are ignored",
			change: func(got []*unstructured.Unstructured) []*unstructured.Unstructured {
				got[0].SetLabels(map[string]string{"app": "web", "cruise.dev/application": "web"})
				got[0].SetAnnotations(map[string]string{"cruise.dev/source": "web/templates/service.yaml"})
				got[1].SetLabels(map[string]string{"cruise.dev/application": "web"})
				return got
			},
		},
		{
			name: "an integer decoded as a float is the same number",
			change: func(got []*unstructured.Unstructured) []*unstructured.Unstructured {
				_ = unstructured.SetNestedField(got[1].Object, float64(2), "spec", "replicas")
				return got
			},
		},
		{
			name: "changed field",
			change: func(got []*unstructured.Unstructured) []*unstructured.Unstructured {
				c, _, _ := unstructured.NestedSlice(got[1].Object, "spec", "template", "spec", "containers")
				c[0].(map[string]any)["image"] = "web:2.0"
				_ = unstructured.SetNestedSlice(got[1].Object, c, "spec", "template", "spec", "containers")
				return got
			},
			want: []string{`apps/v1 Deployment apps/web: spec.template.spec.containers[0].image: got "web:2.0", want "web:1.0"`},
		},
		{
			name: "other labels and annotations count",
			change: func(got []*unstructured.Unstructured) []*unstructured.Unstructured {
				got[0].SetLabels(map[string]string{"app": "web", "example.com/extra": "x"})
				got[1].SetAnnotations(nil)
				return got
			},
			want: []string{
				`apps/v1 Deployment apps/web: metadata.annotations: missing, want {"example.com/owner":"team"}`,
				`v1 Service /web: metadata.labels["example.com/extra"]: unexpected, got "x"`,
			},
		},
		{
			name: "missing field and list length",
			change: func(got []*unstructured.Unstructured) []*unstructured.Unstructured {
				unstructured.RemoveNestedField(got[0].Object, "spec", "ports")
				unstructured.RemoveNestedField(got[1].Object, "spec", "replicas")
				_ = unstructured.SetNestedSlice(got[1].Object, []any{}, "spec", "template", "spec", "containers")
				return got
			},
			want: []string{
				"apps/v1 Deployment apps/web: spec.replicas: missing, want 2",
				"apps/v1 Deployment apps/web: spec.template.spec.containers: 0 items, want 1",
				"v1 Service /web: spec.ports: missing",
			},
		},
		{
			name: "missing object",
			change: func(got []*unstructured.Unstructured) []*unstructured.Unstructured {
				return got[:1]
			},
			want: []string{"apps/v1 Deployment apps/web: missing"},
		},
		{
			name: "namespace is part of the identity",
			change: func(got []*unstructured.Unstructured) []*unstructured.Unstructured {
				got[1].SetNamespace("other")
				return got
			},
			want: []string{"apps/v1 Deployment apps/web: missing", "apps/v1 Deployment other/web: unexpected"},
		},
		{
			name: "extra and duplicate objects",
			change: func(got []*unstructured.Unstructured) []*unstructured.Unstructured {
				cm := &unstructured.Unstructured{}
				cm.SetAPIVersion("v1")
				cm.SetKind("ConfigMap")
				cm.SetName("extra")
				return append(got, cm, got[0].DeepCopy())
			},
			want: []string{"v1 Service /web: twice in got", "v1 ConfigMap /extra: unexpected"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := Objects(t, []byte(stream))
			got := tt.change(Objects(t, []byte(stream)))
			diffs := DiffObjects(want, got)
			if len(diffs) != len(tt.want) {
				t.Fatalf("%d differences, want %d:\n%s", len(diffs), len(tt.want), strings.Join(diffs, "\n"))
			}
			for i, w := range tt.want {
				if !strings.Contains(diffs[i], w) {
					t.Errorf("difference %d = %q, want it to contain %q", i, diffs[i], w)
				}
			}
		})
	}
}

// EqualObjects reports each difference as a test error and says whether
// there was none.
func TestEqualObjectsReports(t *testing.T) {
	want := Objects(t, []byte(stream))
	r := &recorder{}
	if !EqualObjects(r, want, Objects(t, []byte(stream))) || len(r.errors) != 0 {
		t.Fatalf("equal sets: reported %q", r.errors)
	}
	if EqualObjects(r, want, want[:1]) || len(r.errors) != 1 || !strings.Contains(r.errors[0], "apps/v1 Deployment apps/web: missing") {
		t.Fatalf("a missing object: reported %q", r.errors)
	}
}

// Helm's rendering equals itself (a smoke test of the comparison on a
// real chart: with no random values it must find nothing).
func TestEqualObjectsOnChart(t *testing.T) {
	args := []string{"rel", Chart(t, "ingress-nginx"), "--kube-version", "1.37", "--include-crds"}
	EqualObjects(t, Objects(t, Template(t, args...)), Objects(t, Template(t, args...)))
}

func TestObjectsStream(t *testing.T) {
	docs, err := documents([]byte("---\n# only a comment\n---\n" + stream + "---\n# Source: web/crds/a.yaml\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 3 || docs[0].source != "web/templates/service.yaml" || docs[1].obj.GetKind() != "Deployment" || docs[2].source != "web/crds/a.yaml" {
		t.Fatalf("parsed %d documents: %+v", len(docs), docs)
	}
	for _, bad := range []struct{ name, stream, want string }{
		{"no kind", "apiVersion: v1\nmetadata: {name: x}\n", "document 1 of the stream: not an object"},
		{"not YAML", stream + "---\nkind: [\n", "document 3 of the stream"},
		{"not a map", "---\n- a\n- b\n", "document 1 of the stream"},
	} {
		if _, err := documents([]byte(bad.stream)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: err %v, want %q", bad.name, err, bad.want)
		}
	}
}
