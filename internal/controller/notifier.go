package controller

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/imageupdate"
	notification "github.com/cruisegitops/cruise/internal/notify"
	"github.com/cruisegitops/cruise/internal/render"
	gitsource "github.com/cruisegitops/cruise/internal/source"
)

// internal/notify is imported as notification in this package, which has a
// function named notify (imagetags.go).

// Notifier receives what the reconcilers have to tell: internal/notify's
// Dispatcher in `cruise controller`, which decides what is sent (once per
// cause, digests) and delivers it. Notify must return at once. A nil
// Notifier sends nothing.
type Notifier interface {
	Notify(notification.Event)
	// Forget is called when an object is deleted.
	Forget(notification.ObjectRef)
}

// maxEventObjects bounds the objects an event lists.
const maxEventObjects = 50

// notices is the part of outcomes that tells the Notifier how reconciles
// end: a failure (not a wait) as Failed, or HealthDegraded when health is
// what failed; a success after a failure as Recovered. The Dispatcher
// drops retries of a known failure and a Recovered that ends nothing.
type notices struct {
	notifier Notifier
	kind     string
	// source finds the Git repository URL of an object, for commit
	// statuses (nil: none).
	source func(client.Object) string

	mu sync.Mutex
	// failing holds the objects whose last outcome in this process was a
	// failure; absent ones succeeded, or were not seen yet: their first
	// success is announced too, since it may end a failure announced
	// before a restart (see Dispatcher.Seed). guarded by mu.
	failing map[types.NamespacedName]bool
}

// notifying makes outcomes tell n (nil: nobody) about objects of kind.
func (o *outcomes) notifying(n Notifier, kind string) *outcomes {
	o.notices = notices{notifier: n, kind: kind}
	return o
}

// succeeded announces a success that may end a failure.
func (n *notices) succeeded(s subject) {
	if n.notifier == nil {
		return
	}
	key := client.ObjectKeyFromObject(s.obj)
	n.mu.Lock()
	failing, seen := n.failing[key]
	if n.failing == nil {
		n.failing = map[types.NamespacedName]bool{}
	}
	n.failing[key] = false
	n.mu.Unlock()
	if seen && !failing {
		return
	}
	ev := n.event(s.obj, notification.Recovered)
	if c := meta.FindStatusCondition(*s.conditions, cruisev1.ConditionReady); c != nil {
		ev.Reason, ev.Message = c.Reason, c.Message
	}
	if app, ok := s.obj.(*cruisev1.Application); ok {
		ev.Revision = app.Status.LastAppliedRevision
		ev.Commit = commitOf(app, ev.Revision)
	}
	n.notifier.Notify(ev)
}

// failed announces a failure (waits are not failures and never come here).
func (n *notices) failed(s subject, pe *phaseError) {
	if n.notifier == nil {
		return
	}
	key := client.ObjectKeyFromObject(s.obj)
	n.mu.Lock()
	if n.failing == nil {
		n.failing = map[types.NamespacedName]bool{}
	}
	n.failing[key] = true
	n.mu.Unlock()
	typ := notification.Failed
	if pe.Reason == cruisev1.ReasonHealthCheckFailed {
		typ = notification.HealthDegraded
	}
	ev := n.event(s.obj, typ)
	ev.Reason, ev.Message = pe.Reason, pe.Error()
	ev.Objects = failedObjects(pe.Err)
	if app, ok := s.obj.(*cruisev1.Application); ok {
		ev.Revision = app.Status.LastAttemptedRevision
		ev.Commit = commitOf(app, ev.Revision)
		if typ == notification.HealthDegraded {
			ev.Objects = unhealthyObjects(app)
		}
	}
	n.notifier.Notify(ev)
}

func (n *notices) forget(key types.NamespacedName) {
	if n.notifier == nil {
		return
	}
	n.mu.Lock()
	delete(n.failing, key)
	n.mu.Unlock()
	n.notifier.Forget(notification.ObjectRef{Kind: n.kind, Namespace: key.Namespace, Name: key.Name})
}

func (n *notices) event(obj client.Object, typ notification.EventType) notification.Event {
	ev := objectEvent(obj, n.kind, typ)
	if n.source != nil {
		ev.Source = n.source(obj)
	}
	return ev
}

// objectEvent is an event about obj with its identity and labels.
func objectEvent(obj client.Object, kind string, typ notification.EventType) notification.Event {
	var labels map[string]string
	if l := obj.GetLabels(); len(l) > 0 {
		labels = make(map[string]string, len(l))
		for k, v := range l {
			labels[k] = v
		}
	}
	return notification.Event{
		Type:   typ,
		Object: notification.ObjectRef{Kind: kind, Namespace: obj.GetNamespace(), Name: obj.GetName(), UID: string(obj.GetUID())},
		Labels: labels,
	}
}

// commitOf finds the commit of revision in the Application's history.
func commitOf(app *cruisev1.Application, revision string) *notification.Commit {
	sha := gitsource.RevisionCommit(revision)
	if sha == "" {
		return nil
	}
	c := &notification.Commit{SHA: sha}
	for _, h := range app.Status.History {
		if h.Revision == revision {
			c.Subject, c.Author = h.Message, h.Author
			break
		}
	}
	return c
}

// failedObjects names what an error is about: the files of render errors
// ("app/a.yaml:3"), the objects (and their files) of apply errors.
func failedObjects(err error) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(error)
	walk = func(err error) {
		if err == nil || len(out) >= maxEventObjects {
			return
		}
		var name string
		switch e := err.(type) {
		case *render.Error:
			name = e.File
			if e.Line > 0 {
				name = fmt.Sprintf("%s:%d", e.File, e.Line)
			}
		case *apply.ObjectError:
			name = e.Ref.String()
			if e.Source != "" {
				name += " (" + e.Source + ")"
			}
		}
		if name != "" && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// unhealthyObjects lists the applied objects not healthy.
func unhealthyObjects(app *cruisev1.Application) []string {
	var out []string
	for _, r := range app.Status.Resources {
		if r.Health != "" && r.Health != string(apply.Current) && len(out) < maxEventObjects {
			out = append(out, refString(r.Kind, r.Namespace, r.Name))
		}
	}
	return out
}

func refString(kind, ns, name string) string {
	if ns == "" {
		return kind + "/" + name
	}
	return kind + "/" + ns + "/" + name
}

// notifyApplied announces a sync that wrote something: a new revision
// (Synced, or RolledBack when the commit is a rollback `cruise server`
// made of this Application), or a drift reverted.
func (r *ApplicationReconciler) notifyApplied(app *cruisev1.Application, art *gitsource.Artifact, changes []apply.Change, drift bool) {
	if r.Notifier == nil {
		return
	}
	typ := notification.Synced
	switch {
	case drift:
		typ = notification.DriftReverted
	case isRollbackOf(art.Message, app):
		typ = notification.RolledBack
	}
	ev := r.outcomes.notices.event(app, typ)
	ev.Revision = art.Revision
	ev.Reason = cruisev1.ReasonSucceeded
	ev.Commit = &notification.Commit{SHA: art.Commit, Subject: art.Message, Author: art.Author}
	for _, c := range changes {
		if c.Action != apply.Unchanged && c.Action != apply.PruneSkipped && len(ev.Objects) < maxEventObjects {
			ev.Objects = append(ev.Objects, c.Ref.String())
		}
	}
	switch typ {
	case notification.DriftReverted:
		ev.Message = fmt.Sprintf("reverted %d object(s) changed outside Git to %s", len(ev.Objects), art.Revision)
	case notification.RolledBack:
		ev.Message = fmt.Sprintf("deployed %s: %q by %s (%s)", art.Revision, art.Message, art.Author, summary(changes))
	default:
		ev.Message = fmt.Sprintf("applied %s: %s", art.Revision, summary(changes))
	}
	r.Notifier.Notify(ev)
}

// rollbackSubject is the subject of the commits `cruise server` makes for
// a rollback (internal/server/rollback.go).
var rollbackSubject = regexp.MustCompile(`^Roll back ([a-z0-9][-a-z0-9.]*)/([a-z0-9][-a-z0-9.]*) to [0-9a-f]{7,40}$`)

// isRollbackOf reports whether a commit subject is a rollback of app.
func isRollbackOf(subject string, app *cruisev1.Application) bool {
	m := rollbackSubject.FindStringSubmatch(strings.TrimSpace(subject))
	return m != nil && m[1] == app.Namespace && m[2] == app.Name
}

// notifyPushed announces an image update commit: ImageUpdated, about the
// automation, with the commit, the files it changed and what changed.
func (r *ImageUpdateAutomationReconciler) notifyPushed(auto *cruisev1.ImageUpdateAutomation, out *imageupdate.Outcome, w *written) {
	if r.Notifier == nil {
		return
	}
	ev := objectEvent(auto, cruisev1.ImageUpdateAutomationKind, notification.ImageUpdated)
	ev.Revision = w.Branch + "@sha1:" + w.Commit
	ev.Reason = cruisev1.ReasonSucceeded
	subject, _, _ := strings.Cut(w.Message, "\n")
	author := auto.Spec.Git.Commit.Author
	ev.Commit = &notification.Commit{SHA: w.Commit, Subject: subject, Author: fmt.Sprintf("%s <%s>", author.Name, author.Email)}
	ev.Objects = w.Files
	if len(ev.Objects) > maxEventObjects {
		ev.Objects = ev.Objects[:maxEventObjects]
	}
	ev.Message = fmt.Sprintf("pushed %s to %s: %s", shortSHA(w.Commit), w.Branch, changeSummary(out.Changes, 20))
	r.Notifier.Notify(ev)
}

// sourceURL is the URL of the GitRepository an Application deploys from,
// read from the cache; "" when it cannot be read.
func (r *ApplicationReconciler) sourceURL(obj client.Object) string {
	app, ok := obj.(*cruisev1.Application)
	if !ok {
		return ""
	}
	if app.Spec.Chart != nil {
		return app.Spec.Chart.RepoURL
	}
	repo := &cruisev1.GitRepository{}
	key := types.NamespacedName{Namespace: app.SourceNamespace(), Name: app.Spec.SourceRef.Name}
	if err := r.Client.Get(context.Background(), key, repo); err != nil {
		return ""
	}
	return repo.Spec.URL
}

// gitRepositoryURL is a GitRepository's own URL.
func gitRepositoryURL(obj client.Object) string {
	if repo, ok := obj.(*cruisev1.GitRepository); ok {
		return repo.Spec.URL
	}
	return ""
}
