package server_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// BenchmarkApplicationImages measures GET .../images of an application
// with 50 Deployments of 4 containers each, over 50 ImageRepositories
// that 200 ImagePolicies follow (the scale), as a user bound in
// the namespace (lists fall back to the namespace) and as one bound
// cluster-wide.
func BenchmarkApplicationImages(b *testing.B) {
	ctx := b.Context()
	ns := env.Namespace(b)
	app := &v1alpha1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fleet"},
		Spec: v1alpha1.ApplicationSpec{SourceRef: v1alpha1.SourceReference{Name: "nowhere"}, Path: "apps",
			Interval: metav1.Duration{Duration: time.Hour}, Suspend: true}}
	must(b, k8s.Create(ctx, app))
	var resources []v1alpha1.ResourceStatus
	tags := []string{"1.9.0", "1.8.0", "1.7.0", "1.6.0", "1.5.0", "1.4.0", "1.3.0", "1.2.0", "1.1.0", "1.0.0"}
	for r := range 50 {
		img := fmt.Sprintf("registry.example.com/team/app-%02d", r)
		must(b, k8s.Create(ctx, &v1alpha1.ImageRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("app-%02d", r)},
			Spec: v1alpha1.ImageRepositorySpec{Image: img, Interval: metav1.Duration{Duration: time.Hour}, Suspend: true}}))
		for p := range 4 {
			must(b, k8s.Create(ctx, &v1alpha1.ImagePolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("app-%02d-%d", r, p)},
				Spec: v1alpha1.ImagePolicySpec{ImageRepositoryRef: v1alpha1.NamespacedObjectReference{Name: fmt.Sprintf("app-%02d", r)},
					Policy: v1alpha1.ImagePolicyChoice{SemVer: &v1alpha1.SemVerPolicy{Range: fmt.Sprintf("^1.%d", p)}}}}))
		}
	}
	for r := range 50 {
		repo := &v1alpha1.ImageRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("app-%02d", r)}}
		must(b, retry.RetryOnConflict(retry.DefaultRetry, func() error {
			if err := k8s.Get(ctx, objKey(ns, repo.Name), repo); err != nil {
				return err
			}
			repo.Status.LastScanResult = &v1alpha1.ScanResult{ScanTime: metav1.Now(), TagCount: len(tags), LatestTags: tags}
			return k8s.Status().Update(ctx, repo)
		}))
	}
	for d := range 50 {
		var containers []corev1.Container
		for c := range 4 {
			containers = append(containers, corev1.Container{Name: fmt.Sprintf("c%d", c),
				Image: fmt.Sprintf("registry.example.com/team/app-%02d:1.%d.0", (d+c)%50, c)})
		}
		labels := map[string]string{"app": fmt.Sprintf("d%02d", d)}
		must(b, k8s.Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("d%02d", d)},
			Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: containers}}}}))
		resources = append(resources, v1alpha1.ResourceStatus{ObjectRef: v1alpha1.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment",
			Namespace: ns, Name: fmt.Sprintf("d%02d", d)}, Health: "Current"})
	}
	must(b, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8s.Get(ctx, objKey(ns, "fleet"), app); err != nil {
			return err
		}
		app.Status.Resources = resources
		return k8s.Status().Update(ctx, app)
	}))
	tenant, admin := uniqueUser("tenant"), uniqueUser("admin")
	bindRole(b, ns, tenant, "cruise-viewer")
	must(b, k8s.Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{GenerateName: "bench-"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cruise-viewer"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: admin}}}))
	ts := newTestServer(b, map[string][]string{tenant: nil, admin: nil})
	path := "/api/v1/namespaces/" + ns + "/applications/fleet/images"
	for _, user := range []string{tenant, admin} {
		token := ts.token(user)
		b.Run(user[:len(user)-7], func(b *testing.B) {
			for b.Loop() {
				var got apiv1.ApplicationImages
				if code := ts.call("GET", path, token, nil, &got); code != http.StatusOK || len(got.Items) < 200 {
					b.Fatalf("images = %d, %d items", code, len(got.Items))
				}
			}
		})
	}
}
