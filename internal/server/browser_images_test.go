package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/image/registrytest"
)

// TestBrowserImages: in Chromium, the application page's Images section
// shows the tag web runs, the newer tags its policy knows and the hold;
// when the registry gets a newer tag, the section follows with the next
// live update of the page.
func TestBrowserImages(t *testing.T) {
	s := newImageShop(t)
	alice := uniqueUser("alice")
	bindRole(t, s.ns, alice, "cruise-operator")
	ts := newTestServer(t, map[string][]string{alice: nil})
	ctx := newBrowser(t)
	web := `[data-testid=image-row][data-container=web]`

	run(t, ctx, "log in and open the application",
		chromedp.Navigate(ts.URL+"/apps/"+s.ns+"/shop"),
		chromedp.WaitVisible(`input[name=username]`),
		chromedp.SendKeys(`input[name=username]`, alice),
		chromedp.SendKeys(`input[name=password]`, testPassword),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`[data-testid=images]`),
		chromedp.ScrollIntoView(`[data-testid=images]`),
		screenshot(t, "7-images"),
	)
	if n := value(t, ctx, "count image rows", chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=image-row]').length`)); n != 3 {
		t.Errorf("%d image rows, want 3 (report, migrate, web)", n)
	}
	// Polled: the operator in this process may rewrite the policy's
	// status with its own scan of the same registry meanwhile.
	value(t, ctx, "see web's newer tags", chromedp.Poll[bool](
		`document.querySelector('`+web+` [data-testid=newer]').textContent === '1.5.0, 1.4.2'`,
		chromedp.WithPollingTimeout(50*time.Second)))
	if text := value(t, ctx, "read web's chosen tag", chromedp.Text(web+` [data-testid=latest]`)); !strings.Contains(text, "1.5.0") || !strings.Contains(text, "update available") {
		t.Errorf("web's chosen tag = %q, want 1.5.0, update available", text)
	}
	if text := value(t, ctx, "read web's hold", chromedp.Text(web+` [data-testid=held]`)); !strings.Contains(text, "1.5.0 held by web") {
		t.Errorf("web's hold = %q, want 1.5.0 held by web", text)
	}

	// 1.6.0 is pushed and chosen; the next change of the application
	// refreshes the page's live part, images included.
	s.reg.Push("shop/web", "1.6.0", registrytest.Image(t, time.Now(), "web-1.6.0"))
	updateStatus(t, &v1alpha1.ImageRepository{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "web"}}, func(o client.Object) {
		o.(*v1alpha1.ImageRepository).Status.LastScanResult = &v1alpha1.ScanResult{ScanTime: metav1.Now(), TagCount: 5,
			LatestTags: []string{"1.6.0", "2.0.0", "1.5.0", "1.4.2", "1.4.1"}}
	})
	updateStatus(t, &v1alpha1.ImagePolicy{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "web"}}, func(o client.Object) {
		o.(*v1alpha1.ImagePolicy).Status.LatestRef.Tag = "1.6.0"
	})
	app := &v1alpha1.Application{}
	must(t, k8s.Get(t.Context(), objKey(s.ns, "shop"), app))
	patch := client.MergeFrom(app.DeepCopy())
	app.Annotations = map[string]string{"example.com/touched": time.Now().Format(time.RFC3339Nano)}
	must(t, k8s.Patch(t.Context(), app, patch))
	value(t, ctx, "see 1.6.0 live", chromedp.Poll[bool](
		`document.querySelector('`+web+` [data-testid=newer]').textContent === '1.6.0, 1.5.0, 1.4.2'`,
		chromedp.WithPollingTimeout(50*time.Second)))
}
