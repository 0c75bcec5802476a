package controller_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/image/registrytest"
	"github.com/cruisegitops/cruise/internal/source/gittest"
)

// BenchmarkImagePolicyToCommit is the write-back half of the issue's "new
// tag pushed → commit pushed": from an ImagePolicy choosing a new tag to
// the commit on the Git server's branch (HTTP on loopback), 20 tags per
// run. The ImagePolicy reconciler is not in this branch: the benchmark
// sets status.latestRef itself, standing in for the scan and the policy;
// the whole path (tag push → scan → policy → commit) is measured once
// both reconcilers are merged.
func BenchmarkImagePolicyToCommit(b *testing.B) {
	f := newImgFixture(b, gittest.HTTPOptions{}, map[string]string{
		"apps/deploy.yaml":  markedDeploy,
		"apps/service.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n",
	})
	f.sourceNamed("env", nil)
	f.policy("app", nil, app1)
	f.automation("web", "apps", nil)
	f.waitAuto("web", metav1.ConditionTrue, cruisev1.ReasonUpToDate)

	var lat []time.Duration
	n := 0
	for b.Loop() {
		for range 20 {
			n++
			before := f.head("main")
			tag := fmt.Sprintf("1.0.%d", n)
			start := time.Now()
			f.choose("app", *imageRef("registry.example/app", tag))
			head := pollHead(b, f, before)
			lat = append(lat, time.Since(start))
			if got := f.file(head, "apps/deploy.yaml"); !strings.HasPrefix(got, "image: registry.example/app:"+tag+" #") {
				b.Fatalf("commit %s has %q, want tag %s", head, got, tag)
			}
		}
	}
	reportLatencies(b, lat)
}

// pollHead polls the server's main branch every millisecond until it
// leaves old, for a minute at most.
func pollHead(b *testing.B, f *imgFixture, old string) string {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if h := f.head("main"); h != old {
			return h
		}
		time.Sleep(time.Millisecond)
	}
	b.Fatalf("no commit on main after %s", old)
	return ""
}

// BenchmarkTagToCommit is the "new tag pushed → commit pushed"
// with every reconciler running: a tag pushed to a registry on loopback,
// a scan asked for (as the ImageRepository's interval, or `cruise
// reconcile`, would), the policy choosing it, the automation committing
// it; measured from the push to the commit on the Git server.
func BenchmarkTagToCommit(b *testing.B) {
	reg := registrytest.Start(b, registrytest.Options{})
	img := reg.Host() + "/team/app"
	f := newImgFixture(b, gittest.HTTPOptions{}, map[string]string{
		"apps/deploy.yaml": "image: " + img + ":1.0.0 # {\"$imagepolicy\": \"apps:app\"}\n",
	})
	imgs := &imageFixture{t: b, ns: f.ns, reg: reg}
	imgs.push("team/app", time.Now().Add(-time.Hour), "seed", "1.0.0")
	f.sourceNamed("env", nil)
	imgs.repository("app", "team/app", nil)
	imgs.policy("app", "app", semverPolicy(">=1.0.0"), nil)
	imgs.waitChoice("app", "1.0.0")
	f.automation("web", "apps", nil)
	f.waitAuto("web", metav1.ConditionTrue, cruisev1.ReasonUpToDate)

	var lat []time.Duration
	n := 0
	for b.Loop() {
		for range 20 {
			n++
			before := f.head("main")
			tag := fmt.Sprintf("1.0.%d", n)
			start := time.Now()
			reg.Tag("team/app", "1.0.0", tag)
			annotate(b, &cruisev1.ImageRepository{}, types.NamespacedName{Namespace: f.ns, Name: "app"})
			head := pollHead(b, f, before)
			lat = append(lat, time.Since(start))
			if got := f.file(head, "apps/deploy.yaml"); !strings.Contains(got, img+":"+tag+" #") {
				b.Fatalf("commit %s has %q, want tag %s", head, got, tag)
			}
		}
	}
	reportLatencies(b, lat)
}
