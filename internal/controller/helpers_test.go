package controller_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
	"github.com/cruisegitops/cruise/internal/source/gittest"
)

// fixture is one test's namespace, Git repository (served over HTTP) and
// GitRepository object.
type fixture struct {
	t    testing.TB
	ns   string
	repo *gittest.Repo
	url  string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ns := env.Namespace(t)
	root := t.TempDir()
	repo := gittest.NewRepo(t, filepath.Join(root, "env.git"), true)
	srv := gittest.ServeHTTP(t, root, gittest.HTTPOptions{})
	return &fixture{t: t, ns: ns, repo: repo, url: srv.RepoURL("env.git")}
}

// commit commits files as the whole tree.
func (f *fixture) commit(msg string, files map[string]string) string {
	return f.repo.Commit(msg, files)
}

// source creates the GitRepository "env". A long interval keeps polling out
// of the way; tests ask for fetches with requestFetch.
func (f *fixture) source() {
	f.t.Helper()
	f.sourceNamed("env", nil)
}

// sourceNamed creates a GitRepository like source does; mutate adjusts its
// spec.
func (f *fixture) sourceNamed(name string, mutate func(*cruisev1.GitRepositorySpec)) {
	f.t.Helper()
	repo := &cruisev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec: cruisev1.GitRepositorySpec{
			URL: f.url, Ref: &cruisev1.GitRef{Branch: "main"}, Interval: metav1.Duration{Duration: time.Hour},
		},
	}
	if mutate != nil {
		mutate(&repo.Spec)
	}
	if err := k8s.Create(f.t.Context(), repo); err != nil {
		f.t.Fatalf("create GitRepository: %v", err)
	}
}

// waitSourceCondition waits until the GitRepository's Ready has the given
// status and reason.
func (f *fixture) waitSourceCondition(name string, status metav1.ConditionStatus, reason string) *cruisev1.GitRepository {
	f.t.Helper()
	var repo *cruisev1.GitRepository
	f.eventually("GitRepository "+name+" Ready="+string(status)+" "+reason, func() (bool, string) {
		repo = &cruisev1.GitRepository{}
		if err := k8s.Get(f.t.Context(), types.NamespacedName{Namespace: f.ns, Name: name}, repo); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(repo.Status.Conditions, cruisev1.ConditionReady)
		if c == nil {
			return false, "no Ready condition"
		}
		return c.Status == status && c.Reason == reason, string(c.Status) + " " + c.Reason + ": " + c.Message
	})
	return repo
}

// events lists the events about an object of the test's namespace with
// the given reason, oldest first.
func (f *fixture) events(name, reason string) []eventsv1.Event {
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

// requestFetch asks for a fetch now, as `cruise reconcile source` does,
// and waits until the GitRepository holds commit.
func (f *fixture) requestFetch(commit string) {
	f.t.Helper()
	annotate(f.t, &cruisev1.GitRepository{}, types.NamespacedName{Namespace: f.ns, Name: "env"})
	f.eventually("GitRepository at "+commit[:8], func() (bool, string) {
		repo := &cruisev1.GitRepository{}
		if err := k8s.Get(f.t.Context(), types.NamespacedName{Namespace: f.ns, Name: "env"}, repo); err != nil {
			return false, err.Error()
		}
		if repo.Status.Artifact == nil {
			return false, "no artifact"
		}
		return repo.Status.Artifact.Commit == commit, repo.Status.Artifact.Commit
	})
}

// app creates an Application; mutate adjusts its spec.
func (f *fixture) app(name, path string, mutate func(*cruisev1.ApplicationSpec)) {
	f.t.Helper()
	app := &cruisev1.Application{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec: cruisev1.ApplicationSpec{
			SourceRef: cruisev1.SourceReference{Kind: "GitRepository", Name: "env"},
			Path:      path,
			Prune:     true,
			Interval:  metav1.Duration{Duration: time.Hour},
		},
	}
	if mutate != nil {
		mutate(&app.Spec)
	}
	if err := k8s.Create(f.t.Context(), app); err != nil {
		f.t.Fatalf("create Application: %v", err)
	}
}

func (f *fixture) getApp(name string) *cruisev1.Application {
	f.t.Helper()
	app := &cruisev1.Application{}
	if err := k8s.Get(f.t.Context(), types.NamespacedName{Namespace: f.ns, Name: name}, app); err != nil {
		f.t.Fatalf("get Application %s: %v", name, err)
	}
	return app
}

// waitReady waits until the Application is Ready at the given commit.
func (f *fixture) waitReady(name, commit string) *cruisev1.Application {
	f.t.Helper()
	var app *cruisev1.Application
	f.eventually("Application "+name+" Ready at "+commit[:8], func() (bool, string) {
		app = f.getApp(name)
		c := meta.FindStatusCondition(app.Status.Conditions, cruisev1.ConditionReady)
		msg := "no Ready condition"
		if c != nil {
			msg = c.Reason + ": " + c.Message
		}
		return ready(app.Status.Conditions, app.Generation) && strings.HasSuffix(app.Status.LastAppliedRevision, commit), msg
	})
	return app
}

// waitCondition waits until Ready has the given status and reason.
func (f *fixture) waitCondition(name string, status metav1.ConditionStatus, reason string) *cruisev1.Application {
	f.t.Helper()
	var app *cruisev1.Application
	f.eventually("Application "+name+" Ready="+string(status)+" "+reason, func() (bool, string) {
		app = f.getApp(name)
		c := meta.FindStatusCondition(app.Status.Conditions, cruisev1.ConditionReady)
		if c == nil {
			return false, "no Ready condition"
		}
		return c.Status == status && c.Reason == reason, string(c.Status) + " " + c.Reason + ": " + c.Message
	})
	return app
}

// eventually polls cond until it holds, failing with its last note after
// a generous deadline (the figures that matter are in the benchmarks).
func (f *fixture) eventually(what string, cond func() (bool, string)) {
	f.t.Helper()
	clustertest.Eventually(f.t, 60*time.Second, func() (bool, error) {
		ok, note := cond()
		return ok, errors.New(what + ": " + note)
	})
}

// configMap reads a ConfigMap; nil if missing.
func (f *fixture) configMap(name string) *corev1.ConfigMap {
	f.t.Helper()
	cm := &corev1.ConfigMap{}
	err := k8s.Get(f.t.Context(), types.NamespacedName{Namespace: f.ns, Name: name}, cm)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		f.t.Fatalf("get ConfigMap %s: %v", name, err)
	}
	return cm
}

// annotate sets cruise.dev/reconcile-at to now on an object.
func annotate(t testing.TB, obj client.Object, key types.NamespacedName) string {
	t.Helper()
	if err := k8s.Get(t.Context(), key, obj); err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	v := time.Now().Format(time.RFC3339Nano)
	a[cruisev1.ReconcileRequestAnnotation] = v
	obj.SetAnnotations(a)
	if err := k8s.Patch(context.Background(), obj, patch); err != nil {
		t.Fatalf("annotate %s: %v", key, err)
	}
	return v
}

func cmYAML(name, value string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  value: " + value + "\n"
}
