package e2e_test

import (
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
	"github.com/cruisegitops/cruise/internal/image/registrytest"
)

// BenchmarkImagePolicies is the scenario: 200 ImagePolicies over
// 50 ImageRepositories on one interval (1m), against a controller process
// of its own and a registry on loopback paging at 100 tags. Each
// repository has 40 tags (1.0.0 … 1.19.0, build-1 … build-20, one image
// built two hours ago); its four policies are semver ^1, semver ^1 with
// the digest read once (IfNotPresent), numerical over build-N (filter and
// extract), and semver ^1 with a minimum age of one hour (one config
// read). It reports the time from creating them until all 200 policies
// are Ready with the expected tag, the controller's CPU seconds and peak
// RSS for that; the time from a new tag pushed to every repository and
// their scans asked for until every policy chose it; and the controller's
// CPU over one idle interval (50 rescans that find nothing new).
func BenchmarkImagePolicies(b *testing.B) {
	for b.Loop() {
		runImagePolicies(b, 50)
	}
}

func runImagePolicies(b *testing.B, repos int) {
	b.StopTimer()
	const interval = time.Minute
	ns := env.Namespace(b)
	reg := registrytest.Start(b, registrytest.Options{PageSize: 100})
	built := time.Now().Add(-2 * time.Hour)
	var tags []string
	for i := 1; i < 20; i++ {
		tags = append(tags, fmt.Sprintf("1.%d.0", i))
	}
	for i := 1; i <= 20; i++ {
		tags = append(tags, fmt.Sprintf("build-%d", i))
	}
	path := func(r int) string { return fmt.Sprintf("team/app-%02d", r) }
	for r := range repos {
		reg.Push(path(r), "1.0.0", registrytest.Image(b, built, path(r)))
		reg.Tag(path(r), "1.0.0", tags...)
	}
	reg.Push("warmup", "1.0.0", registrytest.Image(b, built, "warmup"))

	repository := func(name, path string) *cruisev1.ImageRepository {
		return &cruisev1.ImageRepository{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: cruisev1.ImageRepositorySpec{
				Image: reg.Host() + "/" + path, Insecure: true, Interval: metav1.Duration{Duration: interval},
			},
		}
	}
	ctrlProc := startController(b)
	// The controller is up and its caches synced once it scanned this.
	warmup := repository("warmup", "warmup")
	if err := k8s.Create(b.Context(), warmup); err != nil {
		b.Fatal(err)
	}
	clustertest.Eventually(b, time.Minute, func() (bool, error) {
		if err := k8s.Get(b.Context(), client.ObjectKeyFromObject(warmup), warmup); err != nil {
			return false, err
		}
		return warmup.Status.LastScanResult != nil, fmt.Errorf("warm-up repository not scanned")
	})
	cpu0, _ := procStats(b, ctrlProc.cmd.Process.Pid)

	b.StartTimer()
	start := time.Now()
	for r := range repos {
		if err := k8s.Create(b.Context(), repository(fmt.Sprintf("app-%02d", r), path(r))); err != nil {
			b.Fatal(err)
		}
		for _, p := range imageBenchPolicies(ns, fmt.Sprintf("app-%02d", r)) {
			if err := k8s.Create(b.Context(), p); err != nil {
				b.Fatal(err)
			}
		}
	}
	allChosen := func(semver, build string) {
		clustertest.Eventually(b, 10*time.Minute, func() (bool, error) {
			var list cruisev1.ImagePolicyList
			if err := k8s.List(b.Context(), &list, client.InNamespace(ns)); err != nil {
				return false, err
			}
			n, example := 0, ""
			for i := range list.Items {
				p := &list.Items[i]
				want := semver
				if p.Spec.Policy.Numerical != nil {
					want = build
				}
				if policyChose(p, want) {
					n++
				} else if example == "" {
					example = describePolicy(p)
				}
			}
			return n == 4*repos, fmt.Errorf("%d of %d chose; e.g. %s", n, 4*repos, example)
		})
	}
	allChosen("1.19.0", "build-20")
	took := time.Since(start)
	b.StopTimer()
	cpu1, rss := procStats(b, ctrlProc.cmd.Process.Pid)
	b.ReportMetric(took.Seconds(), "s-to-all-Ready")
	b.ReportMetric((cpu1 - cpu0).Seconds(), "controller-CPU-s")
	b.ReportMetric(float64(rss)/(1<<20), "controller-peak-RSS-MiB")

	// A new tag everywhere, each repository asked to scan now (a push
	// webhook's or `cruise reconcile`'s way; otherwise the interval).
	for r := range repos {
		reg.Tag(path(r), "1.0.0", "1.20.0", "build-21")
	}
	start = time.Now()
	stamp := time.Now().Format(time.RFC3339Nano)
	for r := range repos {
		repo := &cruisev1.ImageRepository{}
		if err := k8s.Get(b.Context(), client.ObjectKey{Namespace: ns, Name: fmt.Sprintf("app-%02d", r)}, repo); err != nil {
			b.Fatal(err)
		}
		p := client.MergeFrom(repo.DeepCopy())
		repo.Annotations = map[string]string{cruisev1.ReconcileRequestAnnotation: stamp}
		if err := k8s.Patch(b.Context(), repo, p); err != nil {
			b.Fatal(err)
		}
	}
	allChosen("1.20.0", "build-21")
	b.ReportMetric(time.Since(start).Seconds(), "s-new-tag-to-all-chosen")

	// One interval with nothing new: every repository scans once more.
	cpuIdle0, _ := procStats(b, ctrlProc.cmd.Process.Pid)
	time.Sleep(interval) // measuring a resync's cost, not synchronising
	cpuIdle1, _ := procStats(b, ctrlProc.cmd.Process.Pid)
	b.ReportMetric((cpuIdle1 - cpuIdle0).Seconds(), "CPU-s/idle-interval")
	ctrlProc.kill()
	b.StartTimer() // b.Loop expects the timer running between iterations
}

// imageBenchPolicies are the four policies of a repository.
func imageBenchPolicies(ns, repo string) []*cruisev1.ImagePolicy {
	semver := cruisev1.ImagePolicyChoice{SemVer: &cruisev1.SemVerPolicy{Range: "^1"}}
	mk := func(suffix string, spec cruisev1.ImagePolicySpec) *cruisev1.ImagePolicy {
		spec.ImageRepositoryRef = cruisev1.NamespacedObjectReference{Name: repo}
		return &cruisev1.ImagePolicy{ObjectMeta: metav1.ObjectMeta{Name: repo + "-" + suffix, Namespace: ns}, Spec: spec}
	}
	return []*cruisev1.ImagePolicy{
		mk("semver", cruisev1.ImagePolicySpec{Policy: semver}),
		mk("digest", cruisev1.ImagePolicySpec{Policy: semver, DigestReflectionPolicy: cruisev1.DigestReflectIfNotPresent}),
		mk("build", cruisev1.ImagePolicySpec{
			Policy:     cruisev1.ImagePolicyChoice{Numerical: &cruisev1.OrderPolicy{Order: cruisev1.OrderDesc}},
			FilterTags: &cruisev1.TagFilter{Pattern: `^build-(?P<n>[0-9]+)$`, Extract: "$n"},
		}),
		mk("aged", cruisev1.ImagePolicySpec{Policy: semver, MinimumAge: &metav1.Duration{Duration: time.Hour}}),
	}
}

func policyChose(p *cruisev1.ImagePolicy, tag string) bool {
	c := meta.FindStatusCondition(p.Status.Conditions, cruisev1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == p.Generation &&
		p.Status.LatestRef != nil && p.Status.LatestRef.Tag == tag &&
		(p.Spec.DigestReflectionPolicy != cruisev1.DigestReflectIfNotPresent || p.Status.LatestRef.Digest != "")
}

func describePolicy(p *cruisev1.ImagePolicy) string {
	c := meta.FindStatusCondition(p.Status.Conditions, cruisev1.ConditionReady)
	if c == nil {
		return p.Name + ": no Ready condition"
	}
	return fmt.Sprintf("%s: chose %s; Ready=%s %s: %s", p.Name, p.Status.LatestRef.String(), c.Status, c.Reason, c.Message)
}
