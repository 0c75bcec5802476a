package controller_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/image/registrytest"
	"github.com/cruisegitops/cruise/internal/source/gittest"
)

// TestImageAutomationEndToEnd is the whole loop with every reconciler
// running: a tag pushed to a registry is scanned, chosen by the policy,
// committed to Git by the automation, fetched and deployed.
func TestImageAutomationEndToEnd(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	img := reg.Host() + "/team/app"
	deploy := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: %s:1.0.0 # {"$imagepolicy": "apps:app"}
`
	f := newImgFixture(t, gittest.HTTPOptions{}, map[string]string{"deploy/web.yaml": fmt.Sprintf(deploy, img)})
	imgs := &imageFixture{t: t, ns: f.ns, reg: reg}
	imgs.push("team/app", time.Now().Add(-time.Hour), "one", "1.0.0")

	f.source()
	f.app("web", "deploy", func(s *cruisev1.ApplicationSpec) { s.Wait = new(bool) })
	f.waitReady("web", f.head("main"))
	if got := deployedImage(t, f.ns); got != img+":1.0.0" {
		t.Fatalf("deployed %s", got)
	}

	imgs.repository("app", "team/app", nil)
	imgs.policy("app", "app", semverPolicy(">=1.0.0"), nil)
	imgs.waitChoice("app", "1.0.0")
	f.automation("images", "deploy", nil)
	f.waitAuto("images", "True", cruisev1.ReasonUpToDate)
	before := f.head("main")

	imgs.push("team/app", time.Now(), "two", "1.1.0")
	imgs.rescan("app")
	imgs.waitChoice("app", "1.1.0")
	commit := f.waitHead("main", before)
	if got := f.file(commit, "deploy/web.yaml"); !strings.Contains(got, img+":1.1.0 # {") {
		t.Fatalf("committed file:\n%s", got)
	}
	f.eventually("Deployment runs 1.1.0", func() (bool, string) {
		got := deployedImage(t, f.ns)
		return got == img+":1.1.0", got
	})
	f.waitReady("web", commit)
}

func deployedImage(t *testing.T, ns string) string {
	t.Helper()
	d := &appsv1.Deployment{}
	if err := k8s.Get(t.Context(), types.NamespacedName{Namespace: ns, Name: "web"}, d); err != nil {
		return err.Error()
	}
	return d.Spec.Template.Spec.Containers[0].Image
}
