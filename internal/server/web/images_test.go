package web

import (
	"io"
	"strings"
	"testing"

	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// shopImages are the images of shopApp: web follows a policy that chose a
// newer tag, which an automation holds back; its init container and the
// sidecar follow none.
func shopImages() apiv1.ApplicationImages {
	dep := apiv1.WorkloadRef{Kind: "Deployment", Namespace: "shop", Name: "web"}
	return apiv1.ApplicationImages{Items: []apiv1.ApplicationImage{
		{Workload: dep, Container: "migrate", Init: true, Image: "busybox:1.36", Repository: "index.docker.io/library/busybox", Tag: "1.36"},
		{Workload: dep, Container: "web", Image: "ghcr.io/shop/web:1.4.1", Repository: "ghcr.io/shop/web", Tag: "1.4.1",
			Policy: "shop/web", ImageRepository: "shop/web", PolicyReady: "True", Latest: "1.5.0", UpdateAvailable: true,
			Newer: []string{"1.5.0", "1.4.2"},
			Held:  []apiv1.ImageHold{{Automation: "shop/web", Tag: "1.5.0", Image: "ghcr.io/shop/web:1.5.0", Commit: commit, Since: t0}}},
		{Workload: apiv1.WorkloadRef{Kind: "CronJob", Namespace: "jobs", Name: "report"}, Container: "report", Image: "ghcr.io/shop/report:7",
			Repository: "ghcr.io/shop/report", Tag: "7", Policy: "shop/report", ImageRepository: "shop/report", PolicyReady: "False",
			PolicyMessage: "no tag matches"},
	}}
}

func hostileImages() apiv1.ApplicationImages {
	w := apiv1.WorkloadRef{Kind: evil, Namespace: evil, Name: evil}
	return apiv1.ApplicationImages{Notes: []string{evil}, Items: []apiv1.ApplicationImage{{Workload: w, Container: evil, Image: evil,
		Policy: evil, PolicyReady: "False", PolicyMessage: evil, Latest: evil, Newer: []string{evil},
		Held: []apiv1.ImageHold{{Automation: evil, Tag: evil, Image: evil, Commit: evil, Since: t0}}}}}
}

func TestApplicationImages(t *testing.T) {
	r := newRenderer(t)
	p := appPage(shopApp(), bigTree(3))
	page := render(t, func(w io.Writer) error { return r.Live(w, p) })
	mustContain(t, page,
		`<h2 id="h-images">Images <span class="n">3</span></h2>`,
		`<td>migrate <span class="tag">init</span></td>`,
		`<td data-testid="latest"><code>1.5.0</code> <span class="badge b-outofsync">update available</span></td>`,
		`<td data-testid="newer"><code>1.5.0</code>, <code>1.4.2</code></td>`,
		`<span class="badge b-suspended">1.5.0 held</span> by web, <time datetime="2026-03-04T05:06:07Z"`,
		`<td><span title="ImagePolicy shop/web">web</span></td>`,
		`Noticed at 0123456.`,
		// Another namespace is named; a policy that is not Ready says why.
		`<td>CronJob/report <span class="muted">(jobs)</span></td>`,
		`<div class="msg bad">no tag matches</div>`,
		`<span class="muted">none</span>`,
	)
	if strings.Contains(page, `data-testid="images-note"`) || strings.Contains(page, `data-testid="images-error"`) {
		t.Error("notes or an error shown where there are none")
	}

	// Notes and errors are shown even without images; nothing at all
	// leaves the section out.
	p.Images = apiv1.ApplicationImages{Notes: []string{"You may not list ImagePolicies in namespace shop: x."}}
	page = render(t, func(w io.Writer) error { return r.Live(w, p) })
	mustContain(t, page, `<p class="note" data-testid="images-note">You may not list ImagePolicies in namespace shop: x.</p>`)
	p.Images, p.ImagesErr = apiv1.ApplicationImages{}, "unavailable"
	page = render(t, func(w io.Writer) error { return r.Live(w, p) })
	mustContain(t, page, `<p class="msg bad" data-testid="images-error">The images could not be read: unavailable</p>`)
	p.ImagesErr = ""
	page = render(t, func(w io.Writer) error { return r.Live(w, p) })
	if strings.Contains(page, `data-testid="images"`) {
		t.Error("an Images section for an application without images, notes or error")
	}
}
