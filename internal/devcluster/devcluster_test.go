package devcluster_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/cruisegitops/cruise/internal/devcluster"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
)

var env *clustertest.Env

func TestMain(m *testing.M) {
	os.Exit(clustertest.Main(m, devcluster.ProfileAPI, &env))
}

func TestAPIProfileStoresObjects(t *testing.T) {
	ctx := t.Context()
	ns := env.Namespace(t)
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: ns},
		Data:       map[string]string{"greeting": "hello"},
	}
	if _, err := env.Client.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ConfigMap: %v", err)
	}
	got, err := env.Client.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get ConfigMap: %v", err)
	}
	if got.Data["greeting"] != "hello" {
		t.Fatalf("ConfigMap data = %v, want greeting=hello", got.Data)
	}
	if got.UID == "" || got.ResourceVersion == "" {
		t.Fatalf("ConfigMap was not stored by the API server: uid=%q rv=%q", got.UID, got.ResourceVersion)
	}
}

func TestAPIProfileEnforcesRBAC(t *testing.T) {
	// The control plane must authorise like a real cluster, or tests of
	// impersonation and tenant confinement would prove nothing.
	ctx := t.Context()
	ns := env.Namespace(t)
	cfg := *env.Config
	cfg.Impersonate.UserName = "nobody"
	cs := mustClient(t, &cfg)
	_, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	if err == nil {
		t.Fatal("user without RBAC could list ConfigMaps")
	}
}

func TestFullProfileRunsDeployments(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	full, err := clustertest.Start(ctx, devcluster.ProfileFull)
	if err != nil {
		t.Fatalf("start full profile: %v", err)
	}
	t.Cleanup(func() {
		if err := full.Cluster.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	ns := full.Namespace(t)
	// The default ServiceAccount of a new namespace comes from the
	// controller manager; Pods are refused until it exists.
	clustertest.Eventually(t, time.Minute, func() (bool, error) {
		_, err := full.Client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, err
	})
	labels := map[string]string{"app": "web"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "web", Image: "registry.invalid/web:1",
				}}},
			},
		},
	}
	if _, err := full.Client.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create Deployment: %v", err)
	}
	clustertest.Eventually(t, 2*time.Minute, func() (bool, error) {
		d, err := full.Client.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return d.Status.ReadyReplicas == 2 && d.Status.ObservedGeneration == d.Generation, nil
	})
	pods, err := full.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatalf("list pods: %v", err)
	}
	for _, p := range pods.Items {
		if p.Spec.NodeName == "" {
			t.Errorf("pod %s was not scheduled", p.Name)
		}
	}
}

func TestStopRemovesTempDirAndProcesses(t *testing.T) {
	c, err := devcluster.Start(t.Context(), devcluster.Options{})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	dir := c.Dir
	if _, err := os.Stat(filepath.Join(dir, "kubeconfig")); err != nil {
		t.Fatalf("kubeconfig not written: %v", err)
	}
	procs := c.Processes
	if len(procs) != 2 {
		t.Fatalf("api profile recorded %d processes, want 2 (etcd, kube-apiserver)", len(procs))
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temporary dir %s still exists after Stop (err=%v)", dir, err)
	}
	loaded := &devcluster.Cluster{State: devcluster.State{Processes: procs}}
	if alive, _ := loaded.Running(); len(alive) != 0 {
		t.Errorf("processes still running after Stop: %v", alive)
	}
	if err := c.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestStartFailsClearlyWithoutBinaries(t *testing.T) {
	_, err := devcluster.Start(t.Context(), devcluster.Options{BinDir: t.TempDir()})
	if err == nil {
		t.Fatal("Start succeeded with an empty binary directory")
	}
	if want := "make cluster-bins"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not tell the user to run %q", err, want)
	}
}
