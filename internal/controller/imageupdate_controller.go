package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/gitwrite"
	"github.com/cruisegitops/cruise/internal/image"
	"github.com/cruisegitops/cruise/internal/imageupdate"
)

// Event reasons of image update runs besides the condition reasons.
const (
	eventCommitPushed = "CommitPushed"
	eventHoldReleased = "HoldReleased"
)

// ImageUpdateAutomationReconciler commits the tags ImagePolicies choose
// into a GitRepository's repository, where setter markers ask for them: on
// the automation's interval, and as soon as a policy it selects chooses
// another tag. The edit itself (markers, holds, templates) is
// internal/imageupdate; the commit and push are gitwrite.Update.
type ImageUpdateAutomationReconciler struct {
	Client client.Client
	// APIReader reads automations past the cache, so that a run queued
	// behind another sees the status (observed policies, holds) that one
	// wrote; Client when nil.
	APIReader client.Reader
	Recorder  events.EventRecorder
	// Concurrency of runs; default 4. Two automations of one branch may
	// run at once: gitwrite.Update lands both, one on top of the other.
	Concurrency int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Notifier is told of pushes, failures and recoveries; nil: nobody.
	Notifier Notifier

	outcomes *outcomes
}

// SetupWithManager registers the reconciler and its watch of
// ImagePolicies.
func (r *ImageUpdateAutomationReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.APIReader == nil {
		r.APIReader = r.Client
	}
	if r.Concurrency <= 0 {
		r.Concurrency = 4
	}
	r.outcomes = newOutcomes(r.Recorder).notifying(r.Notifier, cruisev1.ImageUpdateAutomationKind)
	return ctrl.NewControllerManagedBy(mgr).
		For(&cruisev1.ImageUpdateAutomation{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		// A policy choosing another tag runs the automations selecting it.
		Watches(&cruisev1.ImagePolicy{}, handler.EnqueueRequestsFromMapFunc(r.automationsOfPolicy),
			builder.WithPredicates(policyChoiceChanged{})).
		WithOptions(ctrlOptions(r.Concurrency)).
		Named("imageupdateautomation").
		Complete(r)
}

func (r *ImageUpdateAutomationReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile runs one update of an automation.
func (r *ImageUpdateAutomationReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	auto := &cruisev1.ImageUpdateAutomation{}
	if ok, err := readLive(ctx, r.APIReader, req.NamespacedName, auto, r.outcomes.forget); !ok {
		return ctrl.Result{}, err
	}
	patchStatus := patchStatusLater(ctx, r.Client, auto)
	defer func() { retErr = errors.Join(retErr, patchStatus()) }()
	requested := auto.Annotations[cruisev1.ReconcileRequestAnnotation]
	if auto.Spec.Suspend {
		auto.Status.LastHandledReconcileAt = requested
		auto.Status.ObservedGeneration = auto.Generation
		set(&auto.Status.Conditions, auto.Generation, cruisev1.ConditionReady, conditionStatus(auto.Status.Conditions),
			cruisev1.ReasonSuspended, "suspended: no commits are made until it is resumed")
		return ctrl.Result{}, nil
	}
	interval := auto.Spec.Interval.Duration
	if interval <= 0 {
		interval = 5 * time.Minute
	}
	err := r.run(ctx, auto)
	auto.Status.LastHandledReconcileAt = requested
	return r.outcomes.finish(ctx, subject{
		obj: auto, conditions: &auto.Status.Conditions, observedGeneration: &auto.Status.ObservedGeneration,
		action: "Update", fallbackReason: cruisev1.ReasonPushFailed,
		timing: newRetryTiming(interval, nil),
	}, interval, err), nil
}

// run is one update: resolve where to write and with what, edit the
// branch head's markers, commit and push, then record what happened.
func (r *ImageUpdateAutomationReconciler) run(ctx context.Context, auto *cruisev1.ImageUpdateAutomation) error {
	now := r.now()
	auto.Status.LastAutomationRunTime = &metav1.Time{Time: now}
	var push string
	if p := auto.Spec.Git.Push; p != nil {
		push = p.Branch
	}
	tmpl, err := imageupdate.ParseTemplates(auto.Spec.Git.Commit.MessageTemplate, push)
	if err != nil {
		return stalling(cruisev1.ReasonInvalidTemplate, err)
	}
	path, err := updatePath(auto)
	if err != nil {
		return err
	}
	tgt, err := r.target(ctx, auto)
	if err != nil {
		return err
	}
	signer, err := r.signer(ctx, auto)
	if err != nil {
		return err
	}
	policies, err := r.policies(ctx, auto)
	if err != nil {
		return err
	}
	releaseAt := auto.Annotations[cruisev1.ReleaseHoldsAnnotation]
	release := releaseAt != "" && releaseAt != auto.Status.LastHandledReleaseAt
	ir := &imageupdate.Run{
		Automation: auto.Name, Namespace: auto.Namespace, Policies: policies,
		Observed: observedRefs(auto.Status.ObservedPolicies), Held: heldMap(auto.Status.Held),
		DetectHolds: !tmpl.PerUpdateBranch(), ReleaseHolds: release, Templates: tmpl, Now: now,
	}
	w, err := write(ctx, auto, tgt, path, signer, tmpl, ir)
	if err != nil {
		return classifyUpdateError(err)
	}
	if release {
		for _, h := range auto.Status.Held {
			r.Recorder.Eventf(auto, nil, corev1.EventTypeNormal, eventHoldReleased, "Update",
				"lifted the hold of %s at %s by request", h.Policy, h.Ref.String())
		}
		auto.Status.LastHandledReleaseAt = releaseAt
	}
	r.record(auto, ir.Outcome(), w)
	if !w.NoOp && w.Commit != "" && tgt.tracked != "" && w.Branch == tgt.tracked {
		r.requestFetch(ctx, tgt.key)
	}
	return r.conclude(auto, ir.Outcome(), w)
}

// requestFetch asks the GitRepository for a fetch now, as a push webhook
// would: the commit just pushed is deployed in seconds, not at the
// repository's next poll. A failure only delays that, so it is logged.
func (r *ImageUpdateAutomationReconciler) requestFetch(ctx context.Context, key types.NamespacedName) {
	meta, _ := cruisev1.ReconcileRequest(r.now())
	patch, err := json.Marshal(map[string]any{"metadata": meta})
	if err == nil {
		repo := &cruisev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
		err = r.Client.Patch(ctx, repo, client.RawPatch(types.MergePatchType, patch))
	}
	if err != nil {
		log.FromContext(ctx).Info("could not ask the GitRepository for a fetch after the push", "gitrepository", key, "error", err.Error())
	}
}

// written is what write did.
type written struct {
	*gitwrite.UpdateResult
	// pending: the changes were already on a per-update branch.
	pending bool
	// checkout is the branch the run read.
	checkout string
}

// write runs the edit through gitwrite.Update. A per-update push branch
// is named after the changes, which are known only once the edit has run:
// a first, dry run over the checkout branch finds them.
func write(ctx context.Context, auto *cruisev1.ImageUpdateAutomation, tgt *gitTarget, path string, signer gitwrite.Signer,
	tmpl *imageupdate.Templates, ir *imageupdate.Run) (*written, error) {
	author := gitwrite.Signature{Name: auto.Spec.Git.Commit.Author.Name, Email: auto.Spec.Git.Commit.Author.Email}
	req := gitwrite.UpdateRequest{
		URL: tgt.url, Auth: tgt.auth, Branch: tgt.branch, Path: path, Edit: ir.Edit,
		Author: author, Signer: signer, Timeout: tgt.timeout,
	}
	w := &written{checkout: tgt.branch}
	if tmpl.PerUpdateBranch() {
		ir.Dry = true
		res, err := gitwrite.Update(ctx, req)
		ir.Dry = false
		if err != nil {
			return nil, err
		}
		out := ir.Outcome()
		if len(out.Changes) == 0 {
			w.UpdateResult = res
			return w, nil
		}
		if req.PushBranch, err = tmpl.Branch(out.Data(auto.Name, auto.Namespace)); err != nil {
			return nil, err
		}
		w.pending = true
	} else if b, _ := tmpl.Branch(imageupdate.Data{}); b != "" {
		req.PushBranch = b
	}
	res, err := gitwrite.Update(ctx, req)
	if err != nil {
		return nil, err
	}
	w.UpdateResult = res
	w.pending = w.pending && res.NoOp
	return w, nil
}

// record puts the run in the status and announces pushes and holds.
func (r *ImageUpdateAutomationReconciler) record(auto *cruisev1.ImageUpdateAutomation, out *imageupdate.Outcome, w *written) {
	if !w.NoOp {
		auto.Status.LastPushCommit = w.Commit
		auto.Status.LastPushTime = &metav1.Time{Time: r.now()}
		r.Recorder.Eventf(auto, nil, corev1.EventTypeNormal, eventCommitPushed, "Update", "pushed %s to %s: %s",
			shortSHA(w.Commit), w.Branch, changeSummary(out.Changes, 0))
		r.notifyPushed(auto, out, w)
	}
	auto.Status.ObservedPolicies = nil
	if len(out.Seen) > 0 {
		auto.Status.ObservedPolicies = make(map[string]cruisev1.ImageRef, len(out.Seen))
		for k, ref := range out.Seen {
			auto.Status.ObservedPolicies[k] = cruisev1.ImageRef{Name: ref.Name, Tag: ref.Tag, Digest: ref.Digest}
		}
	}
	for _, h := range out.NewHolds {
		h.Commit = w.Parent
		held := out.Holds[h.Policy]
		held.Commit = w.Parent
		out.Holds[h.Policy] = held
		r.Recorder.Eventf(auto, nil, corev1.EventTypeNormal, cruisev1.ReasonHeld, "Update", "%s", h.Describe(auto.Name))
	}
	for _, rel := range out.Released {
		r.Recorder.Eventf(auto, nil, corev1.EventTypeNormal, eventHoldReleased, "Update",
			"released the hold of %s at %s: the policy now chooses %s", rel.Hold.Policy, rel.Hold.Ref.String(), rel.Now.String())
	}
	auto.Status.Held = nil
	for _, h := range out.HoldList() {
		auto.Status.Held = append(auto.Status.Held, cruisev1.HeldImage{
			Policy: h.Policy, Ref: cruisev1.ImageRef{Name: h.Ref.Name, Tag: h.Ref.Tag, Digest: h.Ref.Digest},
			Commit: h.Commit, Since: metav1.Time{Time: h.Since},
		})
	}
}

// conclude sets Ready from the run's outcome. A marker naming a policy the
// automation may not use makes it False (the rest was still written); a
// hold makes it True with reason Held.
func (r *ImageUpdateAutomationReconciler) conclude(auto *cruisev1.ImageUpdateAutomation, out *imageupdate.Outcome, w *written) error {
	var parts []string
	reason := cruisev1.ReasonUpToDate
	switch {
	case !w.NoOp:
		reason = cruisev1.ReasonSucceeded
		parts = append(parts, fmt.Sprintf("pushed %s to %s: %s", shortSHA(w.Commit), w.Branch, changeSummary(out.Changes, 3)))
	case w.pending:
		parts = append(parts, fmt.Sprintf("branch %s already holds the update of %s", w.Branch, w.checkout))
	default:
		parts = append(parts, fmt.Sprintf("no marked value needed to change (%d markers in %d files on %s)", out.Markers, out.Files, w.checkout))
	}
	for _, h := range out.HoldList() {
		reason = cruisev1.ReasonHeld
		parts = append(parts, h.Describe(auto.Name))
	}
	for _, p := range out.Waiting {
		parts = append(parts, "ImagePolicy "+p+" has chosen no tag yet")
	}
	msg := strings.Join(parts, "; ")
	if len(out.Missing) > 0 {
		missing := make([]string, len(out.Missing))
		for i, m := range out.Missing {
			missing[i] = m.String()
		}
		return transient(cruisev1.ReasonPolicyNotFound, fmt.Errorf("%s; %s", strings.Join(missing, "; "), msg))
	}
	markReady(&auto.Status.Conditions, auto.Generation, reason, msg)
	return nil
}

// changeSummary lists changes as "ns/policy old → new", at most limit of
// them (0: all).
func changeSummary(changes []imageupdate.Change, limit int) string {
	var parts []string
	for i, c := range changes {
		if limit > 0 && i == limit {
			parts = append(parts, fmt.Sprintf("and %d more", len(changes)-limit))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %s → %s (%s:%d)", c.Policy, c.Old, c.New, c.File, c.Line))
	}
	return strings.Join(parts, ", ")
}

func shortSHA(s string) string {
	if len(s) > 7 {
		return s[:7]
	}
	return s
}

func observedRefs(m map[string]cruisev1.ImageRef) map[string]image.Ref {
	out := make(map[string]image.Ref, len(m))
	for k, r := range m {
		out[k] = image.Ref{Name: r.Name, Tag: r.Tag, Digest: r.Digest}
	}
	return out
}

func heldMap(held []cruisev1.HeldImage) map[string]imageupdate.Hold {
	out := make(map[string]imageupdate.Hold, len(held))
	for _, h := range held {
		out[h.Policy] = imageupdate.Hold{
			Policy: h.Policy, Ref: image.Ref{Name: h.Ref.Name, Tag: h.Ref.Tag, Digest: h.Ref.Digest},
			Commit: h.Commit, Since: h.Since.Time,
		}
	}
	return out
}

// automationsOfPolicy lists the automations of a policy's namespace whose
// policySelector selects it.
func (r *ImageUpdateAutomationReconciler) automationsOfPolicy(ctx context.Context, o client.Object) []reconcile.Request {
	var list cruisev1.ImageUpdateAutomationList
	if err := r.Client.List(ctx, &list, client.InNamespace(o.GetNamespace())); err != nil {
		return nil
	}
	var out []reconcile.Request
	for i := range list.Items {
		sel, err := policySelector(&list.Items[i])
		if err != nil || !sel.Matches(labels.Set(o.GetLabels())) {
			continue
		}
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return out
}

// policyChoiceChanged passes ImagePolicy events that can change what an
// automation writes or reports: a new choice, new labels (the selector),
// a policy created with a choice, a policy deleted.
type policyChoiceChanged struct{ predicate.Funcs }

func (policyChoiceChanged) Create(e event.CreateEvent) bool {
	p, ok := e.Object.(*cruisev1.ImagePolicy)
	return ok && p.Status.LatestRef != nil
}

func (policyChoiceChanged) Update(e event.UpdateEvent) bool {
	o, ok1 := e.ObjectOld.(*cruisev1.ImagePolicy)
	n, ok2 := e.ObjectNew.(*cruisev1.ImagePolicy)
	if !ok1 || !ok2 {
		return false
	}
	return !reflect.DeepEqual(o.Status.LatestRef, n.Status.LatestRef) || !reflect.DeepEqual(o.Labels, n.Labels)
}

func (policyChoiceChanged) Delete(event.DeleteEvent) bool { return true }

func (policyChoiceChanged) Generic(event.GenericEvent) bool { return false }
