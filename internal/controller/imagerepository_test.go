package controller_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/image/registrytest"
)

// pushVersions pushes one image tagged 1.1.0 … 1.N.0 plus a signature, an
// attestation, an SBOM and a dev tag.
func pushVersions(f *imageFixture, repo string, n int) {
	f.t.Helper()
	tags := []string{}
	for i := 1; i <= n; i++ {
		tags = append(tags, fmt.Sprintf("1.%d.0", i))
	}
	tags = append(tags, "sha256-abc.sig", "sha256-abc.att", "sha256-abc.sbom", "dev-1")
	f.push(repo, time.Now(), "a", tags...)
}

// TestImageRepositoryScans: a scan pages through the tag list, keeps the
// tags in memory and only a summary in the status (no signature tags,
// newest ten), and scans again only when asked or due: its own status
// updates trigger nothing.
func TestImageRepositoryScans(t *testing.T) {
	f := newImageFixture(t, registrytest.Options{PageSize: 7})
	pushVersions(f, "team/app", 30)
	before := counter(t, "cruise_image_scans_total")
	f.repository("app", "team/app", nil)

	repo := f.waitRepository("app", metav1.ConditionTrue, cruisev1.ReasonSucceeded)
	res := repo.Status.LastScanResult
	if res == nil || res.TagCount != 31 {
		t.Fatalf("lastScanResult = %+v, want 31 tags (30 versions and dev-1; no signature, attestation or SBOM)", res)
	}
	if len(res.LatestTags) != 10 {
		t.Fatalf("latestTags = %v, want 10", res.LatestTags)
	}
	for _, tag := range res.LatestTags {
		if strings.HasPrefix(tag, "sha256-") {
			t.Fatalf("latestTags shows excluded tag %s", tag)
		}
	}
	if repo.Status.CanonicalImageName != f.image("team/app") {
		t.Fatalf("canonicalImageName = %q", repo.Status.CanonicalImageName)
	}
	if !strings.Contains(readyNote(repo.Status.Conditions), "31 tags") {
		t.Fatalf("Ready message: %s", readyNote(repo.Status.Conditions))
	}
	if counter(t, "cruise_image_scans_total") <= before {
		t.Fatal("cruise_image_scans_total did not count the scan")
	}

	// Each asked-for scan costs the same requests (35 tags at 7 a page:
	// the ping and 5 pages): nothing else scans in between, though every
	// scan updates the status.
	r0 := f.reg.Requests()
	f.rescan("app")
	r1 := f.reg.Requests()
	f.rescan("app")
	r2 := f.reg.Requests()
	if r1-r0 != r2-r1 || r1-r0 < 5 || r1-r0 > 7 {
		t.Fatalf("two asked-for scans made %d and %d requests; want the same, one per page and a ping", r1-r0, r2-r1)
	}

	// Suspended: asked for a scan, it does not.
	patch(t, f.getRepository("app"), func(r *cruisev1.ImageRepository) { r.Spec.Suspend = true })
	f.waitRepository("app", metav1.ConditionTrue, cruisev1.ReasonSuspended)
	r3 := f.reg.Requests()
	f.rescan("app")
	if n := f.reg.Requests() - r3; n != 0 {
		t.Fatalf("a suspended ImageRepository made %d requests", n)
	}
}

// TestImageRepositoryBoundedScans: the default exclusions, exclusions
// replaced, an include pattern and a tag limit.
func TestImageRepositoryBoundedScans(t *testing.T) {
	f := newImageFixture(t, registrytest.Options{PageSize: 5})
	pushVersions(f, "app", 12)
	for _, tc := range []struct {
		name   string
		mutate func(*cruisev1.ImageRepositorySpec)
		want   int
		msg    string
	}{
		{"default", nil, 13, "13 tags"},
		{"replaced", func(s *cruisev1.ImageRepositorySpec) { s.ExclusionList = []string{`^dev-`} }, 15, "15 tags"},
		{"included", func(s *cruisev1.ImageRepositorySpec) { s.IncludePattern = `^1\.1` }, 4, "4 tags"},
		{"limited", func(s *cruisev1.ImageRepositorySpec) { s.IncludePattern = `^1\.`; s.TagLimit = 3 }, 3, "stopped at the tag limit"},
	} {
		f.repository(tc.name, "app", tc.mutate)
		repo := f.waitRepository(tc.name, metav1.ConditionTrue, cruisev1.ReasonSucceeded)
		if got := repo.Status.LastScanResult.TagCount; got != tc.want {
			t.Errorf("%s: %d tags (%v), want %d", tc.name, got, repo.Status.LastScanResult.LatestTags, tc.want)
		}
		if msg := readyNote(repo.Status.Conditions); !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: Ready message %q does not say %q", tc.name, msg, tc.msg)
		}
	}

	// An empty list, as YAML writes it ("exclusionList: []"), excludes
	// nothing. (Go clients drop empty lists; a merge patch keeps it.)
	f.repository("none", "app", nil)
	f.waitRepository("none", metav1.ConditionTrue, cruisev1.ReasonSucceeded)
	repo := f.getRepository("none")
	if err := k8s.Patch(t.Context(), repo, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"exclusionList":[]}}`))); err != nil {
		t.Fatal(err)
	}
	repo = f.waitRepository("none", metav1.ConditionTrue, cruisev1.ReasonSucceeded)
	if got := repo.Status.LastScanResult.TagCount; repo.Generation != 2 || got != 16 {
		t.Errorf("exclusionList []: %d tags at generation %d, want all 16", got, repo.Generation)
	}
}

// TestImageRepositoryAuth: credentials from a dockerconfigjson Secret
// (basic, exchanged for a bearer token); wrong or missing ones stall with
// a message naming the registry and never the password.
func TestImageRepositoryAuth(t *testing.T) {
	f := newImageFixture(t, registrytest.Options{Username: "bot", Password: "s3cret-pw"})
	f.push("private/app", time.Now(), "a", "1.0.0")
	f.dockerConfig("right", "bot", "s3cret-pw")
	f.dockerConfig("wrong", "bot", "not-the-pw")

	f.repository("right", "private/app", func(s *cruisev1.ImageRepositorySpec) { s.SecretRef = &cruisev1.LocalObjectReference{Name: "right"} })
	f.waitRepository("right", metav1.ConditionTrue, cruisev1.ReasonSucceeded)

	for _, name := range []string{"wrong", "anonymous"} {
		f.repository(name, "private/app", func(s *cruisev1.ImageRepositorySpec) {
			if name == "wrong" {
				s.SecretRef = &cruisev1.LocalObjectReference{Name: "wrong"}
			}
		})
		repo := f.waitRepository(name, metav1.ConditionFalse, cruisev1.ReasonAuthenticationFailed)
		msg := readyNote(repo.Status.Conditions)
		if !strings.Contains(msg, f.reg.Host()) || strings.Contains(msg, "not-the-pw") || strings.Contains(msg, "s3cret") {
			t.Fatalf("%s: message %q should name %s and no password", name, msg, f.reg.Host())
		}
		if c := meta.FindStatusCondition(repo.Status.Conditions, cruisev1.ConditionStalled); c == nil || c.Status != metav1.ConditionTrue {
			t.Fatalf("%s: refused credentials do not stall", name)
		}
		ev := f.waitEvent(name, cruisev1.ReasonAuthenticationFailed, f.reg.Host())
		if ev.Type != corev1.EventTypeWarning || strings.Contains(ev.Note, "not-the-pw") {
			t.Fatalf("%s: event %s %q", name, ev.Type, ev.Note)
		}
	}

	// A Secret that is not there yet backs off; created, and a scan asked
	// for, it works.
	f.repository("later", "private/app", func(s *cruisev1.ImageRepositorySpec) { s.SecretRef = &cruisev1.LocalObjectReference{Name: "later"} })
	f.waitRepository("later", metav1.ConditionFalse, cruisev1.ReasonSecretNotFound)
	f.dockerConfig("later", "bot", "s3cret-pw")
	f.rescan("later")
	f.waitRepository("later", metav1.ConditionTrue, cruisev1.ReasonSucceeded)

	// A Secret of the wrong shape names its key.
	f.secret("opaque", corev1.SecretTypeOpaque, map[string][]byte{"password": []byte("s3cret-pw")})
	f.repository("opaque", "private/app", func(s *cruisev1.ImageRepositorySpec) { s.SecretRef = &cruisev1.LocalObjectReference{Name: "opaque"} })
	repo := f.waitRepository("opaque", metav1.ConditionFalse, cruisev1.ReasonAuthenticationFailed)
	if msg := readyNote(repo.Status.Conditions); !strings.Contains(msg, ".dockerconfigjson") || strings.Contains(msg, "s3cret") {
		t.Fatalf("message %q", msg)
	}
}

// TestImageRepositoryFailures: each way a scan fails has its reason, a
// message naming the registry's host:port (or the field at fault) and a
// Warning event.
func TestImageRepositoryFailures(t *testing.T) {
	f := newImageFixture(t, registrytest.Options{})
	f.push("app", time.Now(), "a", "1.0.0")
	for _, tc := range []struct {
		name    string
		image   string
		mutate  func(*cruisev1.ImageRepositorySpec)
		reason  string
		names   string
		stalled bool
	}{
		{"unreachable", "127.0.0.1:1/app", nil, cruisev1.ReasonRegistryUnreachable, "127.0.0.1:1", false},
		{"missing", f.image("nothing/here"), nil, cruisev1.ReasonImageNotFound, f.reg.Host(), false},
		{"bad-include", f.image("app"), func(s *cruisev1.ImageRepositorySpec) { s.IncludePattern = "(" },
			cruisev1.ReasonScanFailed, "spec.includePattern", true},
		{"bad-exclusion", f.image("app"), func(s *cruisev1.ImageRepositorySpec) { s.ExclusionList = []string{"[z-a]"} },
			cruisev1.ReasonScanFailed, "spec.exclusionList", true},
		{"tagged", f.image("app") + ":1.0.0", nil, cruisev1.ReasonScanFailed, "spec.image", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo := &cruisev1.ImageRepository{
				ObjectMeta: metav1.ObjectMeta{Name: tc.name, Namespace: f.ns},
				Spec:       cruisev1.ImageRepositorySpec{Image: tc.image, Insecure: true, Interval: metav1.Duration{Duration: time.Hour}},
			}
			if tc.mutate != nil {
				tc.mutate(&repo.Spec)
			}
			if err := k8s.Create(t.Context(), repo); err != nil {
				t.Fatal(err)
			}
			got := f.waitRepository(tc.name, metav1.ConditionFalse, tc.reason)
			if msg := readyNote(got.Status.Conditions); !strings.Contains(msg, tc.names) {
				t.Fatalf("message %q does not name %s", msg, tc.names)
			}
			stalled := meta.IsStatusConditionTrue(got.Status.Conditions, cruisev1.ConditionStalled)
			if stalled != tc.stalled {
				t.Fatalf("Stalled = %v, want %v", stalled, tc.stalled)
			}
			if ev := f.waitEvent(tc.name, tc.reason, tc.names); ev.Type != corev1.EventTypeWarning {
				t.Fatalf("event type %s", ev.Type)
			}
			if got.Status.LastScanResult != nil {
				t.Fatalf("a failed scan recorded a result: %+v", got.Status.LastScanResult)
			}
		})
	}
}

// TestImageRepositoryRateLimited: 429s with Retry-After are waited out
// within the scan.
func TestImageRepositoryRateLimited(t *testing.T) {
	f := newImageFixture(t, registrytest.Options{})
	f.push("app", time.Now(), "a", "1.0.0", "1.1.0")
	f.reg.RateLimit("/tags/list", "1", 2)
	start := time.Now()
	f.repository("app", "app", nil)
	repo := f.waitRepository("app", metav1.ConditionTrue, cruisev1.ReasonSucceeded)
	if repo.Status.LastScanResult.TagCount != 2 {
		t.Fatalf("tags: %+v", repo.Status.LastScanResult)
	}
	if time.Since(start) < 2*time.Second {
		t.Fatal("two 429s asking for a second each were not waited for")
	}
	if f.events("app", cruisev1.ReasonScanFailed) != nil {
		t.Fatal("a rate-limited scan that succeeded reported a failure")
	}
}

// TestImageRepositoryCustomCA: a registry serving HTTPS with a certificate
// of its own is trusted through certSecretRef's ca.crt; without it the
// scan fails naming the registry.
func TestImageRepositoryCustomCA(t *testing.T) {
	f := newImageFixture(t, registrytest.Options{TLS: true, Username: "bot", Password: "pw"})
	f.push("app", time.Now(), "a", "1.0.0")
	f.secret("ca", corev1.SecretTypeOpaque, map[string][]byte{"ca.crt": f.reg.CA()})
	f.dockerConfig("creds", "bot", "pw")
	tls := func(s *cruisev1.ImageRepositorySpec) {
		s.Insecure = false
		s.SecretRef = &cruisev1.LocalObjectReference{Name: "creds"}
	}

	f.repository("trusted", "app", func(s *cruisev1.ImageRepositorySpec) {
		tls(s)
		s.CertSecretRef = &cruisev1.LocalObjectReference{Name: "ca"}
	})
	f.waitRepository("trusted", metav1.ConditionTrue, cruisev1.ReasonSucceeded)

	f.repository("untrusted", "app", tls)
	repo := f.waitRepository("untrusted", metav1.ConditionFalse, cruisev1.ReasonRegistryUnreachable)
	if msg := readyNote(repo.Status.Conditions); !strings.Contains(msg, f.reg.Host()) || !strings.Contains(msg, "certificate") {
		t.Fatalf("message %q should name %s and the certificate", msg, f.reg.Host())
	}

	f.secret("not-pem", corev1.SecretTypeOpaque, map[string][]byte{"ca.crt": []byte("hello")})
	f.repository("bad-ca", "app", func(s *cruisev1.ImageRepositorySpec) {
		tls(s)
		s.CertSecretRef = &cruisev1.LocalObjectReference{Name: "not-pem"}
	})
	repo = f.waitRepository("bad-ca", metav1.ConditionFalse, cruisev1.ReasonScanFailed)
	if msg := readyNote(repo.Status.Conditions); !strings.Contains(msg, "not-pem") || !strings.Contains(msg, "ca.crt") {
		t.Fatalf("message %q should name the Secret and its key", msg)
	}
}

// patch applies change to obj with a merge patch.
func patch[T client.Object](t testing.TB, obj T, change func(T)) {
	t.Helper()
	base := obj.DeepCopyObject().(T)
	change(obj)
	if err := k8s.Patch(t.Context(), obj, client.MergeFrom(base)); err != nil {
		t.Fatalf("patch %s: %v", types.NamespacedName{Namespace: obj.GetNamespace(), Name: obj.GetName()}, err)
	}
}

// TestImageRepositoryClientCertificate: a registry asking for a client
// certificate gets the one certSecretRef's tls.crt and tls.key hold.
func TestImageRepositoryClientCertificate(t *testing.T) {
	f := newImageFixture(t, registrytest.Options{TLS: true, MutualTLS: true})
	f.push("app", time.Now(), "a", "1.0.0")
	cert, key := f.reg.ClientCertificate()
	f.secret("mtls", corev1.SecretTypeOpaque, map[string][]byte{"ca.crt": f.reg.CA(), "tls.crt": cert, "tls.key": key})
	f.secret("ca-only", corev1.SecretTypeOpaque, map[string][]byte{"ca.crt": f.reg.CA()})
	f.secret("key-only", corev1.SecretTypeOpaque, map[string][]byte{"ca.crt": f.reg.CA(), "tls.key": key})
	with := func(secret string) func(*cruisev1.ImageRepositorySpec) {
		return func(s *cruisev1.ImageRepositorySpec) {
			s.Insecure = false
			s.CertSecretRef = &cruisev1.LocalObjectReference{Name: secret}
		}
	}

	f.repository("mtls", "app", with("mtls"))
	f.waitRepository("mtls", metav1.ConditionTrue, cruisev1.ReasonSucceeded)

	f.repository("ca-only", "app", with("ca-only"))
	repo := f.waitRepository("ca-only", metav1.ConditionFalse, cruisev1.ReasonRegistryUnreachable)
	if msg := readyNote(repo.Status.Conditions); !strings.Contains(msg, f.reg.Host()) || !strings.Contains(msg, "certificate") {
		t.Fatalf("message %q should name %s and the certificate", msg, f.reg.Host())
	}

	f.repository("key-only", "app", with("key-only"))
	repo = f.waitRepository("key-only", metav1.ConditionFalse, cruisev1.ReasonScanFailed)
	if msg := readyNote(repo.Status.Conditions); !strings.Contains(msg, "tls.crt and tls.key") || strings.Contains(msg, "PRIVATE KEY") {
		t.Fatalf("message %q should name the keys, never the key", msg)
	}
}
