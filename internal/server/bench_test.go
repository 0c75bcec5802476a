package server_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// fleet creates n Applications spread over namespaces, each with a
// realistic status (conditions, 5 resources, 2 history entries), and
// returns the namespaces.
func fleet(b *testing.B, n, perNamespace int) []string {
	b.Helper()
	ctx := b.Context()
	var nss []string
	for range n / perNamespace {
		nss = append(nss, env.Namespace(b))
	}
	now := metav1.Now()
	status := v1alpha1.ApplicationStatus{
		Conditions: []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonSucceeded,
			Message: "applied revision main@sha1:0123456789abcdef0123456789abcdef01234567", LastTransitionTime: now}},
		LastAppliedRevision:   "main@sha1:0123456789abcdef0123456789abcdef01234567",
		LastAttemptedRevision: "main@sha1:0123456789abcdef0123456789abcdef01234567",
		History: []v1alpha1.SyncResult{
			{Revision: "main@sha1:0123456789abcdef0123456789abcdef01234567", Message: "release 2", Author: "A <a@example.com>", Time: now, Result: "Succeeded"},
			{Revision: "main@sha1:fedcba9876543210fedcba9876543210fedcba98", Message: "release 1", Author: "A <a@example.com>", Time: now, Result: "Succeeded"},
		},
	}
	for i := range 5 {
		status.Resources = append(status.Resources, v1alpha1.ResourceStatus{ObjectRef: v1alpha1.ObjectRef{Version: "v1", Kind: "ConfigMap",
			Name: fmt.Sprintf("cm-%d", i)}, Sync: "Synced", Health: "Current"})
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				ns := nss[i%len(nss)]
				app := &v1alpha1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("app-%05d", i)},
					Spec: v1alpha1.ApplicationSpec{SourceRef: v1alpha1.SourceReference{Name: "nowhere"}, Path: "apps", Interval: metav1.Duration{Duration: time.Hour}, Suspend: true}}
				err := k8s.Create(ctx, app)
				if err == nil {
					app.Status = *status.DeepCopy()
					for j := range app.Status.Resources {
						app.Status.Resources[j].Namespace = ns
					}
					err = k8s.Status().Update(ctx, app)
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	settled(b, n, nss)
	return nss
}

// settled waits until the in-process operator has marked every
// Application of the namespaces suspended, its last write: otherwise the
// benchmark would time the operator's catch-up as well.
func settled(b *testing.B, n int, nss []string) {
	b.Helper()
	clustertestEventually(b, func() (bool, string) {
		done := 0
		for _, ns := range nss {
			list := &v1alpha1.ApplicationList{}
			if err := k8s.List(b.Context(), list, client.InNamespace(ns)); err != nil {
				return false, err.Error()
			}
			for _, a := range list.Items {
				if c := meta.FindStatusCondition(a.Status.Conditions, v1alpha1.ConditionReady); c != nil && c.Reason == v1alpha1.ReasonSuspended && len(a.Status.Resources) > 0 {
					done++
				}
			}
		}
		return done == n, fmt.Sprintf("%d of %d settled", done, n)
	})
}

// BenchmarkListApplications5000 measures GET /api/v1/applications over
// 5,000 Applications: for a user who may list cluster-wide (one
// impersonated list) and for one who may read 50 namespaces one by one (a
// list per namespace), full list and first page.
func BenchmarkListApplications5000(b *testing.B) {
	const n = 5000
	nss := fleet(b, n, 100)
	must(b, k8s.Create(b.Context(), &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{GenerateName: "bench-"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cruise-viewer"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "admin-user"}}}))
	for _, ns := range nss {
		bindRole(b, ns, "tenant-user", "cruise-viewer")
	}
	ts := newTestServer(b, map[string][]string{"admin-user": nil, "tenant-user": nil})
	for _, user := range []string{"admin-user", "tenant-user"} {
		token := ts.token(user)
		for _, q := range []string{"limit=5000", "limit=200"} {
			b.Run(user+"/"+q, func(b *testing.B) {
				for b.Loop() {
					var list apiv1.ApplicationList
					if code := ts.call("GET", "/api/v1/applications?"+q, token, nil, &list); code != http.StatusOK || list.Total != n {
						b.Fatalf("list = %d, total %d", code, list.Total)
					}
				}
			})
		}
	}
	b.Run("overview-first-paint-chromium", func(b *testing.B) {
		ctx := newBrowser(b)
		login(b, ctx, ts, "admin-user")
		for b.Loop() {
			browserDo(b, ctx, chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(`[data-testid=app-row]`))
		}
	})
}

// BenchmarkApplicationPage1500 measures the application page of one
// Application with 1,500 resources, in Chromium: from navigation to the
// resource graph drawn.
func BenchmarkApplicationPage1500(b *testing.B) {
	ns := env.Namespace(b)
	app := &v1alpha1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "big"},
		Spec: v1alpha1.ApplicationSpec{SourceRef: v1alpha1.SourceReference{Name: "nowhere"}, Path: "apps", Interval: metav1.Duration{Duration: time.Hour}, Suspend: true}}
	must(b, k8s.Create(b.Context(), app))
	kinds := []string{"ConfigMap", "Service", "Deployment", "Secret", "ServiceAccount"}
	for i := range 1500 {
		k := kinds[i%len(kinds)]
		group := ""
		if k == "Deployment" {
			group = "apps"
		}
		app.Status.Resources = append(app.Status.Resources, v1alpha1.ResourceStatus{
			ObjectRef: v1alpha1.ObjectRef{Group: group, Version: "v1", Kind: k, Namespace: ns, Name: fmt.Sprintf("res-%04d", i)},
			Sync:      "Synced", Health: "Current", Message: "Resource is current"})
	}
	resources := app.Status.Resources
	must(b, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8s.Get(b.Context(), objKey(ns, "big"), app); err != nil {
			return err
		}
		app.Status.Resources = resources
		return k8s.Status().Update(b.Context(), app)
	}))
	settled(b, 1, []string{ns})
	bindRole(b, ns, "alice", "cruise-viewer")
	ts := newTestServer(b, map[string][]string{"alice": nil})
	ctx := newBrowser(b)
	login(b, ctx, ts, "alice")
	page := ts.URL + "/apps/" + ns + "/big"
	b.ResetTimer()
	for b.Loop() {
		browserDo(b, ctx, chromedp.Navigate(page), chromedp.WaitVisible(`svg[data-testid=graph]`))
	}
	b.StopTimer()
	var nodes int
	nodes, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=node]').length`))
	if err != nil || nodes < 1501 {
		b.Fatalf("graph has %d nodes (%v), want 1,501", nodes, err)
	}
}

// login logs user in through the browser.
func login(b testing.TB, ctx context.Context, ts *testServer, user string) {
	b.Helper()
	browserDo(b, ctx,
		chromedp.Navigate(ts.URL+"/"),
		chromedp.WaitVisible(`input[name=username]`),
		chromedp.SendKeys(`input[name=username]`, user),
		chromedp.SendKeys(`input[name=password]`, testPassword),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`header`),
	)
}

func browserDo(b testing.TB, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	b.Helper()
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		b.Fatal(err)
	}
}
