package hookrun

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/helm"
)

// Labels on every hook object cruise creates. Together they name the
// release the hook belongs to; the values are the release name and the
// release namespace.
const (
	LabelHookOf          = "cruise.dev/hook-of"
	LabelHookOfNamespace = "cruise.dev/hook-of-namespace"
)

// Defaults for the zero values of Runner's fields.
const (
	DefaultFieldManager = "cruise-hooks"
	DefaultTimeout      = 5 * time.Minute // Helm's --timeout default
)

// Runner runs the hooks of one release. Client, Namespace and Release are
// required; the zero value of every other field works.
type Runner struct {
	// Client is the applying identity's (impersonation included); its
	// RESTMapper says which kinds are namespaced.
	Client client.Client
	// Namespace is the release namespace: namespaced hook objects that
	// name no namespace go there.
	Namespace string
	// Release is the release name.
	Release string
	// FieldManager for server-side apply; default DefaultFieldManager.
	FieldManager string
	// Timeout bounds each wait of each hook (its deletion before creation,
	// its completion, its deletion after); default DefaultTimeout.
	Timeout time.Duration
	// Progress, when set, is called for every step of every hook, from the
	// goroutine that called Run.
	Progress func(Step)
}

// Action is one step of a hook's run.
type Action string

const (
	// Replaced: an object of the hook's name was deleted before creation.
	Replaced Action = "replaced"
	// Created: the hook object was applied.
	Created Action = "created"
	// Succeeded: the hook is done (Job Complete, Pod Succeeded, other
	// kinds created).
	Succeeded Action = "succeeded"
	// Failed: the hook failed, did not complete in time or could not be
	// created; the run stops.
	Failed Action = "failed"
	// Deleted: the hook object was deleted by hook-succeeded or
	// hook-failed (Step.Message names the policy), or by Remove
	// ("removed").
	Deleted Action = "deleted"
)

// Step reports one step of one hook; see Runner.Progress.
type Step struct {
	Action Action
	Ref    apply.ObjRef
	Source string // "<chart>/templates/<file>"
	Event  string
	// Message says more, e.g. "1 of 1 completions"; never a value of the
	// object.
	Message string
}

// Result says what happened to one hook of the event.
type Result struct {
	Ref    apply.ObjRef
	Source string
	Event  string
	Weight int
	// Replaced: an earlier object of that name was deleted first.
	Replaced bool
	// Created: the hook object was applied.
	Created bool
	// Succeeded: the hook completed; false for the hook that failed.
	Succeeded bool
	// Message is the last word on the hook, e.g. "1 of 1 completions".
	Message string
	// Deleted: removed by hook-succeeded or hook-failed.
	Deleted bool
	// Duration from the start of the hook's run to its outcome.
	Duration time.Duration
}

// Run runs the hooks among hooks that have event, in Helm's order, and
// returns what happened to each hook it started, in that order. It stops
// at the first hook that fails; the error is then a *HookError naming it
// (possibly joined with errors of the deletions its failure triggers).
// Invalid input (event, hooks, Runner) is refused before anything changes.
func (r *Runner) Run(ctx context.Context, event string, hooks []helm.Hook) ([]Result, error) {
	if err := checkEvent(event); err != nil {
		return nil, err
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	runs, err := r.prepare(event, hooks)
	if err != nil {
		return nil, err
	}
	results := make([]Result, 0, len(runs))
	for i, h := range runs {
		res, err := r.runOne(ctx, h)
		results = append(results, res)
		if err != nil {
			// As Helm: the failed hook goes if it says hook-failed, the
			// ones that succeeded before it if they say hook-succeeded.
			errs := []error{err}
			if h.created != nil {
				errs = append(errs, r.deleteAfter(ctx, h, helm.HookFailed, &results[i]))
			}
			for j := range i {
				errs = append(errs, r.deleteAfter(ctx, runs[j], helm.HookSucceeded, &results[j]))
			}
			return results, errors.Join(errs...)
		}
	}
	var errs []error
	for i, h := range slices.Backward(runs) {
		if err := r.deleteAfter(ctx, h, helm.HookSucceeded, &results[i]); err != nil {
			errs = append(errs, err)
		}
	}
	return results, errors.Join(errs...)
}

func (r *Runner) check() error {
	switch {
	case r.Client == nil:
		return errors.New("hook runner: no client")
	case r.Release == "":
		return errors.New("hook runner: no release name")
	case r.Namespace == "":
		return fmt.Errorf("hook runner for release %s: no release namespace", r.Release)
	}
	// The labels carry both; Helm allows release names up to 53 characters.
	if msgs := validation.IsValidLabelValue(r.Release); len(msgs) > 0 {
		return fmt.Errorf("hook runner: release name %q cannot be a label value: %s", r.Release, msgs[0])
	}
	return nil
}

func (r *Runner) timeout() time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	return DefaultTimeout
}

func (r *Runner) fieldManager() string {
	if r.FieldManager != "" {
		return r.FieldManager
	}
	return DefaultFieldManager
}

func (r *Runner) report(h *run, a Action, msg string) {
	if r.Progress != nil {
		r.Progress(Step{Action: a, Ref: h.ref, Source: h.source, Event: h.event, Message: msg})
	}
}

// runOne runs one hook up to its outcome; deletions after it are Run's.
func (r *Runner) runOne(ctx context.Context, h *run) (Result, error) {
	start := time.Now()
	res := Result{Ref: h.ref, Source: h.source, Event: h.event, Weight: h.weight}
	fail := func(err *HookError) (Result, error) {
		res.Duration = time.Since(start)
		res.Message = err.Err.Error()
		r.report(h, Failed, res.Message)
		return res, err
	}

	live, err := r.get(ctx, h)
	if err != nil {
		return fail(h.errorf(ReasonAPI, "could not be read: %w", h.scrub(err)))
	}
	if live != nil {
		if err := r.checkOwner(h, live); err != nil {
			return fail(err)
		}
		if h.policies[helm.BeforeHookCreation] {
			if err := r.deleteAndWait(ctx, h, live); err != nil {
				return fail(err)
			}
			res.Replaced = true
			r.report(h, Replaced, "deleted the previous "+h.ref.Kind)
		}
	}

	if err := r.create(ctx, h); err != nil {
		return fail(err)
	}
	res.Created = true
	r.report(h, Created, "")

	msg, herr := r.waitDone(ctx, h)
	if herr != nil {
		return fail(herr)
	}
	res.Succeeded = true
	res.Message = msg
	res.Duration = time.Since(start)
	r.report(h, Succeeded, msg)
	return res, nil
}

// create applies the hook object and remembers the UID it got, so that
// deletions after the run never touch a later incarnation.
func (r *Runner) create(ctx context.Context, h *run) *HookError {
	obj := h.obj.DeepCopy()
	err := r.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj),
		client.ForceOwnership, client.FieldOwner(r.fieldManager()))
	if err != nil {
		return h.errorf(ReasonAPI, "could not be created: %w", h.scrub(err))
	}
	live, err := r.get(ctx, h)
	if err != nil {
		return h.errorf(ReasonAPI, "could not be read after creation: %w", h.scrub(err))
	}
	if live == nil {
		return h.errorf(ReasonFailed, "was deleted right after creation")
	}
	h.created = live
	return nil
}

// deleteAfter deletes a hook object that was created in this run if it
// has policy, and records it in res.
func (r *Runner) deleteAfter(ctx context.Context, h *run, policy string, res *Result) error {
	if h.created == nil || !h.policies[policy] || isCRD(h.ref) {
		return nil
	}
	if err := r.deleteAndWait(ctx, h, h.created); err != nil {
		return err
	}
	res.Deleted = true
	r.report(h, Deleted, policy)
	return nil
}

// get returns the live object of the hook's name, or nil.
func (r *Runner) get(ctx context.Context, h *run) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(h.obj.GroupVersionKind())
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: h.ref.Namespace, Name: h.ref.Name}, u)
	if err != nil {
		if notFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return u, nil
}
