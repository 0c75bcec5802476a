package apply_test

import (
	"context"
	"os"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/devcluster"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
	"github.com/cruisegitops/cruise/internal/render"
)

var env *clustertest.Env

func TestMain(m *testing.M) {
	os.Exit(clustertest.Main(m, devcluster.ProfileAPI, &env))
}

// objects parses multi-document YAML into render objects; each document's
// source is "<file>#<index>".
func objects(t testing.TB, file, docs string) []render.Object {
	t.Helper()
	var out []render.Object
	for _, doc := range strings.Split(docs, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatalf("bad fixture in %s: %v", file, err)
		}
		out = append(out, render.Object{Unstructured: u, Source: file})
	}
	return out
}

func newEngine(t testing.TB) *apply.Engine {
	t.Helper()
	e, err := apply.NewEngine(env.Config, apply.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// setup returns an engine, a namespace and apply options with a ConfigMap
// inventory named after the test in that namespace.
func setup(t *testing.T) (*apply.Engine, string, apply.ApplyOptions) {
	t.Helper()
	e := newEngine(t)
	ns := env.Namespace(t)
	return e, ns, apply.ApplyOptions{
		Owner:      apply.Owner{Name: "app", Namespace: ns},
		Inventory:  e.NewConfigMapInventory(ns, "app"),
		Namespaces: apply.Namespaces{Default: ns},
		Prune:      true,
	}
}

// get reads an object; nil when it does not exist.
func get(t testing.TB, gvk schema.GroupVersionKind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	c, err := client.New(env.Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, u)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("get %s %s/%s: %v", gvk.Kind, ns, name, err)
	}
	return u
}

var (
	configMapGVK  = schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
	secretGVK     = schema.GroupVersionKind{Version: "v1", Kind: "Secret"}
	namespaceGVK  = schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}
	deploymentGVK = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	jobGVK        = schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "Job"}
)

// actions maps "Kind/name" to the action, for compact assertions.
func actions(changes []apply.Change) map[string]apply.Action {
	m := map[string]apply.Action{}
	for _, c := range changes {
		m[c.Ref.Kind+"/"+c.Ref.Name] = c.Action
	}
	return m
}

func wantActions(t *testing.T, changes []apply.Change, want map[string]apply.Action) {
	t.Helper()
	got := actions(changes)
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: action %q, want %q (all: %v)", k, got[k], w, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d changes %v, want %d", len(got), got, len(want))
	}
}
