package hookrun_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/cruisegitops/cruise/internal/devcluster"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
	"github.com/cruisegitops/cruise/internal/helm"
	"github.com/cruisegitops/cruise/internal/helm/hookrun"
	"github.com/cruisegitops/cruise/internal/render"
)

// The full profile: hook Jobs need the Job controller to make Pods, the
// scheduler to place them and kwok to run them to Succeeded (its
// pod-complete stage completes Pods owned by a Job).
var (
	env *clustertest.Env
	k8s client.Client
)

func TestMain(m *testing.M) {
	os.Exit(clustertest.Main(m, devcluster.ProfileFull, &env, func(_ context.Context, e *clustertest.Env) error {
		c, err := client.New(e.Config, client.Options{})
		k8s = c
		return err
	}))
}

// namespace gives the test a namespace in which Pods can be created (the
// ServiceAccount controller has made "default").
func namespace(t *testing.T) string {
	t.Helper()
	ns := env.Namespace(t)
	clustertest.Eventually(t, time.Minute, func() (bool, error) {
		_, err := env.Client.CoreV1().ServiceAccounts(ns).Get(t.Context(), "default", metav1.GetOptions{})
		return err == nil, err
	})
	return ns
}

func runner(ns string) *hookrun.Runner {
	return &hookrun.Runner{Client: k8s, Namespace: ns, Release: "web", Timeout: 2 * time.Minute}
}

// hook makes a helm.Hook of the chart "web" from its manifest; the file
// is named after the object.
func hook(t *testing.T, events string, weight int, policies string, manifest string) helm.Hook {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(manifest), &u.Object); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	h := helm.Hook{
		Object: render.Object{Unstructured: u, Source: "web/templates/" + u.GetName() + ".yaml"},
		Events: strings.Split(events, ","),
		Weight: weight,
	}
	if policies != "" {
		h.DeletePolicies = strings.Split(policies, ",")
	}
	return h
}

// job is a hook Job's manifest; extra is added to the Job's spec and
// podSpec to the Pod's, both indented as in a Job.
func job(name, extra, podSpec string) string {
	return `
apiVersion: batch/v1
kind: Job
metadata:
  name: ` + name + `
  annotations: {helm.sh/hook: pre-install}
spec:
  backoffLimit: 0
` + extra + `
  template:
    spec:
      restartPolicy: Never
` + podSpec + `
      containers:
      - name: migrate
        image: registry.invalid/migrate:1
`
}

func configMap(name string) string {
	return `
apiVersion: v1
kind: ConfigMap
metadata:
  name: ` + name + `
  annotations: {helm.sh/hook: pre-install}
data: {k: v}
`
}

// unschedulable keeps a Job's Pod Pending: no node has the label.
const unschedulable = `      nodeSelector: {cruise.dev/test-no-such-node: "true"}`

// exists says whether the object is there; any error but NotFound fails.
func exists(t *testing.T, obj client.Object, ns, name string) bool {
	t.Helper()
	err := k8s.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, obj)
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatalf("get %s: %v", name, err)
	}
	return err == nil
}
