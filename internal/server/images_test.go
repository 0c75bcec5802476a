package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/image/registrytest"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// imageShop is an application whose Deployment runs web 1.4.1 (and an
// unfollowed init container) and whose CronJob runs report 7. The
// registry on loopback has web 1.4.1, 1.4.2, 1.5.0 and 2.0.0; the
// ImagePolicy web (semver ^1.0) chose 1.5.0, which the ImageUpdateAutomation
// web holds back after a rollback.
type imageShop struct {
	ns, host string
	reg      *registrytest.Registry
}

// webTags are the registry's tags of shop/web, oldest first.
var webTags = []string{"1.4.1", "1.4.2", "1.5.0", "2.0.0"}

func newImageShop(t *testing.T) *imageShop {
	t.Helper()
	ctx := t.Context()
	reg := registrytest.Start(t, registrytest.Options{})
	s := &imageShop{ns: env.Namespace(t), host: reg.Host(), reg: reg}
	for i, tag := range webTags {
		reg.Push("shop/web", tag, registrytest.Image(t, time.Now().Add(time.Duration(i-10)*time.Hour), "web-"+tag))
	}
	reg.Push("shop/report", "7", registrytest.Image(t, time.Now().Add(-time.Hour), "report-7"))

	pod := corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "migrate", Image: "busybox:1.36"}},
		Containers:     []corev1.Container{{Name: "web", Image: s.host + "/shop/web:1.4.1"}},
	}
	labels := map[string]string{"app": "web"}
	must(t, k8s.Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "web"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: pod}}}))
	must(t, k8s.Create(ctx, &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "report"},
		Spec: batchv1.CronJobSpec{Schedule: "0 * * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{Name: "report", Image: s.host + "/shop/report:7"}}}}}}}}))
	// A Deployment the application does not manage: its image is not the
	// application's.
	other := pod.DeepCopy()
	other.InitContainers = nil
	other.Containers[0].Name = "stranger"
	must(t, k8s.Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "other"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: *other}}}))

	// Suspended, so that the operator running in this test process leaves
	// the recorded resources alone.
	must(t, k8s.Create(ctx, &v1alpha1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "shop"},
		Spec: v1alpha1.ApplicationSpec{SourceRef: v1alpha1.SourceReference{Name: "nowhere"}, Path: "shop",
			Interval: metav1.Duration{Duration: time.Hour}, Suspend: true}}))
	updateStatus(t, &v1alpha1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "shop"}}, func(o client.Object) {
		o.(*v1alpha1.Application).Status.Resources = []v1alpha1.ResourceStatus{
			{ObjectRef: v1alpha1.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: s.ns, Name: "web"}, Health: "Current"},
			{ObjectRef: v1alpha1.ObjectRef{Group: "batch", Version: "v1", Kind: "CronJob", Namespace: s.ns, Name: "report"}, Health: "Current"},
			{ObjectRef: v1alpha1.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: s.ns, Name: "web-config"}, Health: "Current"},
		}
	})

	// The image automation objects, with the status their reconcilers
	// write (written here by hand; they say what the registry holds, so a
	// reconciler that writes them again writes the same).
	must(t, k8s.Create(ctx, &v1alpha1.ImageRepository{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "web"},
		Spec: v1alpha1.ImageRepositorySpec{Image: s.host + "/shop/web", Insecure: true, Interval: metav1.Duration{Duration: time.Hour}}}))
	updateStatus(t, &v1alpha1.ImageRepository{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "web"}}, func(o client.Object) {
		o.(*v1alpha1.ImageRepository).Status.LastScanResult = &v1alpha1.ScanResult{ScanTime: metav1.Now(), TagCount: len(webTags),
			LatestTags: []string{"2.0.0", "1.5.0", "1.4.2", "1.4.1"}}
	})
	must(t, k8s.Create(ctx, &v1alpha1.ImagePolicy{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "web"},
		Spec: v1alpha1.ImagePolicySpec{ImageRepositoryRef: v1alpha1.NamespacedObjectReference{Name: "web"},
			Policy: v1alpha1.ImagePolicyChoice{SemVer: &v1alpha1.SemVerPolicy{Range: "^1.0"}}}}))
	updateStatus(t, &v1alpha1.ImagePolicy{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "web"}}, func(o client.Object) {
		p := o.(*v1alpha1.ImagePolicy)
		p.Status.LatestRef = &v1alpha1.ImageRef{Name: s.host + "/shop/web", Tag: "1.5.0"}
		p.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Succeeded",
			Message: "chose 1.5.0", LastTransitionTime: metav1.Now()}}
	})
	must(t, k8s.Create(ctx, &v1alpha1.ImageUpdateAutomation{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "web"},
		Spec: v1alpha1.ImageUpdateAutomationSpec{Interval: metav1.Duration{Duration: time.Hour}, Suspend: true,
			SourceRef: v1alpha1.ImageSourceReference{Kind: "GitRepository", Name: "env"},
			Git:       v1alpha1.ImageGitSpec{Commit: v1alpha1.GitCommitSpec{Author: v1alpha1.CommitAuthor{Name: "cruise", Email: "cruise@example.com"}}}}}))
	updateStatus(t, &v1alpha1.ImageUpdateAutomation{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "web"}}, func(o client.Object) {
		o.(*v1alpha1.ImageUpdateAutomation).Status.Held = []v1alpha1.HeldImage{{Policy: s.ns + "/web",
			Ref: v1alpha1.ImageRef{Name: s.host + "/shop/web", Tag: "1.5.0"}, Commit: "0123456789abcdef0123456789abcdef01234567",
			Since: metav1.NewTime(time.Now().Add(-time.Hour).Truncate(time.Second))}}
	})
	return s
}

// updateStatus changes obj's status through the status subresource, as
// its reconciler would, retrying when the operator wrote in between.
func updateStatus(t *testing.T, obj client.Object, change func(client.Object)) {
	t.Helper()
	must(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8s.Get(t.Context(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		change(obj)
		return k8s.Status().Update(t.Context(), obj)
	}))
}

// allowOnly gives user a Role in ns with exactly rules.
func allowOnly(t *testing.T, ns, user string, rules ...rbacv1.PolicyRule) {
	t.Helper()
	ctx := t.Context()
	must(t, k8s.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: user, Namespace: ns}, Rules: rules}))
	must(t, k8s.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user, Namespace: ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: user},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}))
}

// imageRows renders items as "container policy latest newer update held"
// lines, for comparing.
func imageRows(items []apiv1.ApplicationImage) string {
	var lines []string
	for _, it := range items {
		held := ""
		for _, h := range it.Held {
			held += " held=" + h.Tag + "/" + h.Automation
		}
		update := "no"
		if it.UpdateAvailable {
			update = "yes"
		}
		lines = append(lines, it.Workload.Kind+"/"+it.Workload.Name+" "+it.Container+" tag="+it.Tag+" policy="+it.Policy+
			" latest="+it.Latest+" newer="+strings.Join(it.Newer, ",")+" update="+update+held)
	}
	return strings.Join(lines, "\n")
}

// pollImages GETs path with token until check finds nothing wrong (it
// returns what is), and returns that answer. It polls because the
// operator running in this process may rewrite the image objects' status
// with its own scan of the same registry.
func pollImages(t *testing.T, ts *testServer, path, token string, check func(apiv1.ApplicationImages) string) apiv1.ApplicationImages {
	t.Helper()
	var got apiv1.ApplicationImages
	clustertestEventually(t, func() (bool, string) {
		got = apiv1.ApplicationImages{}
		if code := ts.call("GET", path, token, nil, &got); code != http.StatusOK {
			return false, fmt.Sprintf("GET %s = %d", path, code)
		}
		msg := check(got)
		return msg == "", msg
	})
	return got
}

// TestApplicationImagesAPI: the images of an application's workloads,
// what the policy following web chose, the newer tags known and the hold;
// read as the user, whose RBAC may leave parts out (with a note), never
// fail the request.
func TestApplicationImagesAPI(t *testing.T) {
	s := newImageShop(t)
	alice, bob, carol := uniqueUser("alice"), uniqueUser("bob"), uniqueUser("carol")
	bindRole(t, s.ns, alice, "cruise-viewer")
	readApps := rbacv1.PolicyRule{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"applications"}, Verbs: []string{"get", "list"}}
	// bob reads the workloads but no image automation.
	allowOnly(t, s.ns, bob, readApps,
		rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"list"}},
		rbacv1.PolicyRule{APIGroups: []string{"batch"}, Resources: []string{"cronjobs"}, Verbs: []string{"list"}})
	// carol reads image automation but not the CronJobs.
	allowOnly(t, s.ns, carol, readApps,
		rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"list"}},
		rbacv1.PolicyRule{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"imagerepositories", "imagepolicies", "imageupdateautomations"},
			Verbs: []string{"list", "get"}})
	ts := newTestServer(t, map[string][]string{alice: nil, bob: nil, carol: nil})
	path := "/api/v1/namespaces/" + s.ns + "/applications/shop/images"

	want := strings.Join([]string{
		"CronJob/report report tag=7 policy= latest= newer= update=no",
		"Deployment/web migrate tag=1.36 policy= latest= newer= update=no",
		"Deployment/web web tag=1.4.1 policy=" + s.ns + "/web latest=1.5.0 newer=1.5.0,1.4.2 update=yes held=1.5.0/" + s.ns + "/web",
	}, "\n")
	got := pollImages(t, ts, path, ts.token(alice), func(got apiv1.ApplicationImages) string {
		if rows := imageRows(got.Items); rows != want || len(got.Notes) != 0 {
			return fmt.Sprintf("alice's images:\n%s\nnotes %q\nwant:\n%s", rows, got.Notes, want)
		}
		return ""
	})
	web := got.Items[2]
	if web.Repository != s.host+"/shop/web" || web.ImageRepository != s.ns+"/web" || web.PolicyReady != "True" || web.Image != s.host+"/shop/web:1.4.1" ||
		!got.Items[1].Init || got.Items[1].Repository != "index.docker.io/library/busybox" || web.Held[0].Since.IsZero() {
		t.Errorf("web item %+v / migrate item %+v", web, got.Items[1])
	}

	// bob may not read ImagePolicies: the images without what policies
	// say, and a note saying why.
	got = apiv1.ApplicationImages{}
	if code := ts.call("GET", path, ts.token(bob), nil, &got); code != http.StatusOK {
		t.Fatalf("GET images as bob = %d", code)
	}
	if rows := imageRows(got.Items); strings.Contains(rows, "policy="+s.ns) || len(got.Items) != 3 {
		t.Errorf("bob's images:\n%s\nwant the three containers and no policy", rows)
	}
	if notes := strings.Join(got.Notes, "\n"); !strings.Contains(notes, "You may not list ImagePolicies in namespace "+s.ns) ||
		!strings.Contains(notes, "You may not list ImageRepositories in namespace "+s.ns) {
		t.Errorf("bob's notes %q, want that ImagePolicies and ImageRepositories could not be read", got.Notes)
	}

	// carol may not list CronJobs: the Deployment's images, with the
	// policy, and a note about the CronJobs.
	got = pollImages(t, ts, path, ts.token(carol), func(got apiv1.ApplicationImages) string {
		if rows := imageRows(got.Items); len(got.Items) != 2 || !strings.Contains(rows, "latest=1.5.0 newer=1.5.0,1.4.2") {
			return fmt.Sprintf("carol's images:\n%s\nwant the Deployment's two containers with web's policy", rows)
		}
		return ""
	})
	if notes := strings.Join(got.Notes, "\n"); notes != "You may not list CronJobs in namespace "+s.ns+": their images are not shown." {
		t.Errorf("carol's notes %q", got.Notes)
	}

	// Someone else's application is refused as elsewhere; a missing one is
	// not found.
	var e apiv1.ErrorResponse
	mallory := uniqueUser("mallory")
	ts2 := newTestServer(t, map[string][]string{mallory: nil})
	if code := ts2.call("GET", path, ts2.token(mallory), nil, &e); code != http.StatusForbidden || e.Error.Code != apiv1.CodeForbidden {
		t.Errorf("GET images as mallory = %d %+v, want 403", code, e.Error)
	}
	if code := ts.call("GET", "/api/v1/namespaces/"+s.ns+"/applications/nope/images", ts.token(alice), nil, &e); code != http.StatusNotFound {
		t.Errorf("GET images of a missing application = %d, want 404", code)
	}
}

// TestApplicationPageImages: the page shows the section, or, for a user
// who may not read ImagePolicies, the rest of the page and a note.
func TestApplicationPageImages(t *testing.T) {
	s := newImageShop(t)
	alice, bob := uniqueUser("alice"), uniqueUser("bob")
	bindRole(t, s.ns, alice, "cruise-operator")
	allowOnly(t, s.ns, bob,
		rbacv1.PolicyRule{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"applications"}, Verbs: []string{"get", "list", "watch"}},
		rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"list"}},
		rbacv1.PolicyRule{APIGroups: []string{"batch"}, Resources: []string{"cronjobs"}, Verbs: []string{"list"}})
	ts := newTestServer(t, map[string][]string{alice: nil, bob: nil})
	page := "/apps/" + s.ns + "/shop"

	b := ts.login(alice)
	clustertestEventually(t, func() (bool, string) {
		resp, body := get(t, b, ts.URL+page)
		if resp.StatusCode != http.StatusOK {
			return false, fmt.Sprintf("page as alice = %d", resp.StatusCode)
		}
		for _, want := range []string{`<h2 id="h-images">Images <span class="n">3</span></h2>`,
			`<td data-testid="newer"><code>1.5.0</code>, <code>1.4.2</code></td>`,
			`<span class="badge b-suspended">1.5.0 held</span> by web, `,
			`<span title="ImagePolicy ` + s.ns + `/web">web</span>`} {
			if !strings.Contains(body, want) {
				return false, "alice's page lacks " + want
			}
		}
		return true, ""
	})
	resp, body := get(t, ts.login(bob), ts.URL+page)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("page as bob = %d, want 200", resp.StatusCode)
	}
	if !strings.Contains(body, `data-testid="images-note">You may not list ImagePolicies in namespace `+s.ns) ||
		!strings.Contains(body, `<h1>shop</h1>`) || strings.Contains(body, `data-testid="newer"><code>`) {
		t.Errorf("bob's page: want the application, a note on ImagePolicies and no newer tags:\n%s", body)
	}
}
