package controller_test

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
	"github.com/cruisegitops/cruise/internal/image/registrytest"
)

// imageFixture is one test's namespace and registry.
type imageFixture struct {
	t   testing.TB
	ns  string
	reg *registrytest.Registry
}

func newImageFixture(t testing.TB, opts registrytest.Options) *imageFixture {
	t.Helper()
	return &imageFixture{t: t, ns: env.Namespace(t), reg: registrytest.Start(t, opts)}
}

// image is the registry's image at path.
func (f *imageFixture) image(path string) string { return f.reg.Host() + "/" + path }

// push pushes an image created at created under each tag of repo (the
// first pushed, the others tagged); it returns its digest.
func (f *imageFixture) push(repo string, created time.Time, seed string, tags ...string) string {
	f.t.Helper()
	d := f.reg.Push(repo, tags[0], registrytest.Image(f.t, created, seed))
	if len(tags) > 1 {
		f.reg.Tag(repo, tags[0], tags[1:]...)
	}
	return d
}

// repository creates an ImageRepository of the registry's image at path,
// with a long interval (tests ask for scans with the reconcile-at
// annotation); mutate adjusts its spec.
func (f *imageFixture) repository(name, path string, mutate func(*cruisev1.ImageRepositorySpec)) {
	f.t.Helper()
	f.repositoryIn(f.ns, name, path, mutate)
}

func (f *imageFixture) repositoryIn(ns, name, path string, mutate func(*cruisev1.ImageRepositorySpec)) {
	f.t.Helper()
	repo := &cruisev1.ImageRepository{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: cruisev1.ImageRepositorySpec{
			Image: f.image(path), Insecure: true, Interval: metav1.Duration{Duration: time.Hour},
		},
	}
	if mutate != nil {
		mutate(&repo.Spec)
	}
	if err := k8s.Create(f.t.Context(), repo); err != nil {
		f.t.Fatalf("create ImageRepository %s: %v", name, err)
	}
}

// policy creates an ImagePolicy of repository repo; mutate adjusts its
// spec.
func (f *imageFixture) policy(name, repo string, choice cruisev1.ImagePolicyChoice, mutate func(*cruisev1.ImagePolicySpec)) {
	f.t.Helper()
	pol := &cruisev1.ImagePolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec: cruisev1.ImagePolicySpec{
			ImageRepositoryRef: cruisev1.NamespacedObjectReference{Name: repo},
			Policy:             choice,
		},
	}
	if mutate != nil {
		mutate(&pol.Spec)
	}
	if err := k8s.Create(f.t.Context(), pol); err != nil {
		f.t.Fatalf("create ImagePolicy %s: %v", name, err)
	}
}

func semverPolicy(r string) cruisev1.ImagePolicyChoice {
	return cruisev1.ImagePolicyChoice{SemVer: &cruisev1.SemVerPolicy{Range: r}}
}

// dockerConfig creates a kubernetes.io/dockerconfigjson Secret with
// credentials for the registry.
func (f *imageFixture) dockerConfig(name, user, password string) {
	f.t.Helper()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	data, _ := json.Marshal(map[string]any{"auths": map[string]any{f.reg.Host(): map[string]string{"auth": auth}}})
	f.secret(name, corev1.SecretTypeDockerConfigJson, map[string][]byte{corev1.DockerConfigJsonKey: data})
}

func (f *imageFixture) secret(name string, typ corev1.SecretType, data map[string][]byte) {
	f.t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns}, Type: typ, Data: data}
	if err := k8s.Create(f.t.Context(), s); err != nil {
		f.t.Fatalf("create Secret %s: %v", name, err)
	}
}

func (f *imageFixture) getRepository(name string) *cruisev1.ImageRepository {
	f.t.Helper()
	repo := &cruisev1.ImageRepository{}
	if err := k8s.Get(f.t.Context(), types.NamespacedName{Namespace: f.ns, Name: name}, repo); err != nil {
		f.t.Fatalf("get ImageRepository %s: %v", name, err)
	}
	return repo
}

func (f *imageFixture) getPolicy(name string) *cruisev1.ImagePolicy {
	f.t.Helper()
	pol := &cruisev1.ImagePolicy{}
	if err := k8s.Get(f.t.Context(), types.NamespacedName{Namespace: f.ns, Name: name}, pol); err != nil {
		f.t.Fatalf("get ImagePolicy %s: %v", name, err)
	}
	return pol
}

// readyNote describes a Ready condition for failure messages.
func readyNote(conds []metav1.Condition) string {
	c := meta.FindStatusCondition(conds, cruisev1.ConditionReady)
	if c == nil {
		return "no Ready condition"
	}
	return string(c.Status) + " " + c.Reason + ": " + c.Message
}

// waitRepository waits until the ImageRepository's Ready has the status
// and reason, for its current generation.
func (f *imageFixture) waitRepository(name string, status metav1.ConditionStatus, reason string) *cruisev1.ImageRepository {
	f.t.Helper()
	var repo *cruisev1.ImageRepository
	f.eventually("ImageRepository "+name+" Ready="+string(status)+" "+reason, func() (bool, string) {
		repo = f.getRepository(name)
		c := meta.FindStatusCondition(repo.Status.Conditions, cruisev1.ConditionReady)
		return c != nil && c.Status == status && c.Reason == reason && c.ObservedGeneration == repo.Generation, readyNote(repo.Status.Conditions)
	})
	return repo
}

// waitPolicy waits until the ImagePolicy's Ready has the status and
// reason, for its current generation.
func (f *imageFixture) waitPolicy(name string, status metav1.ConditionStatus, reason string) *cruisev1.ImagePolicy {
	f.t.Helper()
	var pol *cruisev1.ImagePolicy
	f.eventually("ImagePolicy "+name+" Ready="+string(status)+" "+reason, func() (bool, string) {
		pol = f.getPolicy(name)
		c := meta.FindStatusCondition(pol.Status.Conditions, cruisev1.ConditionReady)
		return c != nil && c.Status == status && c.Reason == reason && c.ObservedGeneration == pol.Generation, readyNote(pol.Status.Conditions)
	})
	return pol
}

// waitChoice waits until the ImagePolicy is Ready with tag chosen.
func (f *imageFixture) waitChoice(name, tag string) *cruisev1.ImagePolicy {
	f.t.Helper()
	var pol *cruisev1.ImagePolicy
	f.eventually("ImagePolicy "+name+" chose "+tag, func() (bool, string) {
		pol = f.getPolicy(name)
		return ready(pol.Status.Conditions, pol.Generation) && pol.Status.LatestRef != nil && pol.Status.LatestRef.Tag == tag,
			pol.Status.LatestRef.String() + "; " + readyNote(pol.Status.Conditions)
	})
	return pol
}

// rescan asks for a scan now, as `cruise reconcile` does, and waits until
// it was handled.
func (f *imageFixture) rescan(name string) *cruisev1.ImageRepository {
	f.t.Helper()
	v := annotate(f.t, &cruisev1.ImageRepository{}, types.NamespacedName{Namespace: f.ns, Name: name})
	var repo *cruisev1.ImageRepository
	f.eventually("ImageRepository "+name+" rescanned", func() (bool, string) {
		repo = f.getRepository(name)
		return repo.Status.LastHandledReconcileAt == v, readyNote(repo.Status.Conditions)
	})
	return repo
}

// events lists the events about an object of the fixture's namespace with
// the given reason, oldest first.
func (f *imageFixture) events(name, reason string) []eventsv1.Event {
	f.t.Helper()
	var list eventsv1.EventList
	if err := k8s.List(f.t.Context(), &list, client.InNamespace(f.ns)); err != nil {
		f.t.Fatalf("list events: %v", err)
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Reason == reason {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b eventsv1.Event) int { return a.EventTime.Compare(b.EventTime.Time) })
	return out
}

// waitEvent waits for an event about an object with the reason and a note
// containing each of parts.
func (f *imageFixture) waitEvent(name, reason string, parts ...string) eventsv1.Event {
	f.t.Helper()
	var found eventsv1.Event
	f.eventually("event "+reason+" about "+name, func() (bool, string) {
		evs := f.events(name, reason)
		for _, e := range evs {
			if containsAll(e.Note, parts...) {
				found = e
				return true, ""
			}
		}
		return false, strings.Join(notes(evs), " | ")
	})
	return found
}

func notes(evs []eventsv1.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Note
	}
	return out
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func (f *imageFixture) eventually(what string, cond func() (bool, string)) {
	f.t.Helper()
	clustertest.Eventually(f.t, 60*time.Second, func() (bool, error) {
		ok, note := cond()
		return ok, errorString(what + ": " + note)
	})
}

type errorString string

func (e errorString) Error() string { return string(e) }
