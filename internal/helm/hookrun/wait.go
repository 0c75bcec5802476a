package hookrun

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Polling starts fast, since most hooks finish in a second or two, and
// backs off so that a long migration costs few requests.
const (
	pollFirst = 100 * time.Millisecond
	pollMax   = 2 * time.Second
)

// errNotYet is the check's answer for "poll again".
var errNotYet = errors.New("not yet")

// poll runs check until it returns nil (done) or an error other than
// errNotYet (stop), or ctx ends; it then returns ctx's error. check keeps
// its own record of the last state for messages.
func poll(ctx context.Context, check func(context.Context) error) error {
	interval := pollFirst
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		err := check(ctx)
		if !errors.Is(err, errNotYet) {
			return err
		}
		t.Reset(interval)
		interval = min(interval*3/2, pollMax)
	}
}

// bounded runs f with the per-wait timeout and tells a timeout of this
// wait (timedOut) from the end of the caller's context.
func (r *Runner) bounded(ctx context.Context, f func(context.Context) error) (timedOut bool, err error) {
	wctx, cancel := context.WithTimeout(ctx, r.timeout())
	defer cancel()
	err = f(wctx)
	return err != nil && wctx.Err() != nil && ctx.Err() == nil, err
}

// waitDone waits until the hook is done: a Job Complete, a Pod Succeeded;
// other kinds are done once created. It returns a short account of the
// final state, e.g. "1 of 1 completions".
func (r *Runner) waitDone(ctx context.Context, h *run) (string, *HookError) {
	var state func(*unstructured.Unstructured) (done bool, msg string, failure error)
	switch {
	case h.ref.Group == "batch" && h.ref.Kind == "Job":
		state = jobState
	case h.ref.Group == "" && h.ref.Kind == "Pod":
		state = podState
	default:
		return "created", nil
	}
	uid := h.created.GetUID()
	progress := "not read yet"
	var done string
	var failure *HookError
	timedOut, err := r.bounded(ctx, func(ctx context.Context) error {
		return poll(ctx, func(ctx context.Context) error {
			live, err := r.get(ctx, h)
			switch {
			case err != nil:
				// Transient API errors must not fail a long-running hook;
				// the last one is kept for the timeout message.
				progress = "last read failed: " + h.scrub(err).Error()
				return errNotYet
			case (live == nil || live.GetUID() != uid) && removedWhenFinished(h.created):
				// A Job with ttlSecondsAfterFinished: 0 (ingress-nginx's
				// certificate Jobs) can be gone before a read sees it
				// Complete. Helm counts a hook deleted while it is
				// waited for as done; so does cruise, for such a Job only.
				done = "finished and removed by its ttlSecondsAfterFinished"
				return nil
			case live == nil || live.GetUID() != uid:
				failure = h.errorf(ReasonFailed, "was deleted while it ran")
				return failure
			}
			ok, msg, ferr := state(live)
			progress = msg
			switch {
			case ferr != nil:
				failure = h.errorf(ReasonFailed, "failed: %v", ferr)
				return failure
			case ok:
				done = msg
				return nil
			}
			return errNotYet
		})
	})
	switch {
	case failure != nil:
		return "", failure
	case timedOut:
		return "", h.errorf(ReasonTimeout, "did not complete within %s: %s", r.timeout(), progress)
	case err != nil:
		return "", h.errorf(ReasonTimeout, "was not done when the run was stopped (%s): %w", progress, err)
	}
	return done, nil
}

// jobState reads a Job as Helm's hook waiter does: done when Complete is
// True, failed when Failed is True.
func jobState(u *unstructured.Unstructured) (bool, string, error) {
	parallelism := intField(u, 1, "spec", "parallelism")
	completions := intField(u, parallelism, "spec", "completions")
	succeeded := intField(u, 0, "status", "succeeded")
	msg := fmt.Sprintf("%d of %d completions", succeeded, completions)
	if c := condition(u, "Failed"); c != nil && c.Status == metav1.ConditionTrue {
		return false, msg, fmt.Errorf("%s: %s", c.Reason, c.Message)
	}
	if c := condition(u, "Complete"); c != nil && c.Status == metav1.ConditionTrue {
		return true, msg, nil
	}
	if active := intField(u, 0, "status", "active"); active > 0 {
		msg += fmt.Sprintf(", %d active", active)
	}
	return false, msg, nil
}

// podState reads a Pod as Helm's hook waiter does: done when Succeeded,
// failed when Failed.
func podState(u *unstructured.Unstructured) (bool, string, error) {
	phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
	msg := "phase " + phase
	if phase == "" {
		msg = "no phase yet"
	}
	switch phase {
	case "Succeeded":
		return true, msg, nil
	case "Failed":
		return false, msg, errors.New(podFailure(u))
	}
	return false, msg, nil
}

// podFailure says why a Pod failed: the Pod's reason, else the first
// container that terminated with a non-zero code.
func podFailure(u *unstructured.Unstructured) string {
	reason, _, _ := unstructured.NestedString(u.Object, "status", "reason")
	message, _, _ := unstructured.NestedString(u.Object, "status", "message")
	if reason != "" || message != "" {
		return strings.TrimSuffix(reason+": "+message, ": ")
	}
	statuses, _, _ := unstructured.NestedSlice(u.Object, "status", "containerStatuses")
	for _, s := range statuses {
		m, _ := s.(map[string]any)
		term, _, _ := unstructured.NestedMap(m, "state", "terminated")
		code, _, _ := unstructured.NestedInt64(term, "exitCode")
		if term != nil && code != 0 {
			name, _, _ := unstructured.NestedString(m, "name")
			why, _, _ := unstructured.NestedString(term, "reason")
			return fmt.Sprintf("container %s exited with code %d (%s)", name, code, why)
		}
	}
	return "phase Failed"
}

func intField(u *unstructured.Unstructured, def int64, path ...string) int64 {
	v, ok, err := unstructured.NestedInt64(u.Object, path...)
	if !ok || err != nil {
		return def
	}
	return v
}

// condition returns the status condition of type t, or nil.
func condition(u *unstructured.Unstructured, t string) *metav1.Condition {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if typ, _, _ := unstructured.NestedString(m, "type"); typ != t {
			continue
		}
		var out metav1.Condition
		out.Type = t
		s, _, _ := unstructured.NestedString(m, "status")
		out.Status = metav1.ConditionStatus(s)
		out.Reason, _, _ = unstructured.NestedString(m, "reason")
		out.Message, _, _ = unstructured.NestedString(m, "message")
		return &out
	}
	return nil
}

// deleteAndWait deletes this incarnation of the hook object (live's UID)
// and waits until it is gone. A Job goes in the foreground of its Pods: it
// is gone only when they are, so a hook never runs beside the Pods of its
// previous run (Jobs default to orphaning them).
func (r *Runner) deleteAndWait(ctx context.Context, h *run, live *unstructured.Unstructured) *HookError {
	policy := metav1.DeletePropagationBackground
	if h.ref.Group == "batch" && h.ref.Kind == "Job" {
		policy = metav1.DeletePropagationForeground
	}
	uid := live.GetUID()
	err := r.Client.Delete(ctx, live, client.PropagationPolicy(policy), client.Preconditions{UID: &uid})
	switch {
	case err != nil && notFound(err):
		return nil
	case err != nil:
		return h.errorf(ReasonAPI, "could not be deleted: %w", h.scrub(err))
	}
	state := "deletion requested"
	timedOut, err := r.bounded(ctx, func(ctx context.Context) error {
		return poll(ctx, func(ctx context.Context) error {
			cur, err := r.get(ctx, h)
			switch {
			case err != nil:
				state = "last read failed: " + h.scrub(err).Error()
				return errNotYet
			case cur == nil || cur.GetUID() != uid:
				return nil
			}
			state = "still there"
			if f := cur.GetFinalizers(); len(f) > 0 {
				state += ", finalizers " + strings.Join(f, ", ")
			}
			return errNotYet
		})
	})
	switch {
	case timedOut:
		return h.errorf(ReasonTimeout, "was not deleted within %s: %s", r.timeout(), state)
	case err != nil:
		return h.errorf(ReasonTimeout, "was not yet deleted when the run was stopped (%s): %w", state, err)
	}
	return nil
}

// removedWhenFinished says whether obj is a Job the TTL controller
// deletes once it has finished.
func removedWhenFinished(obj *unstructured.Unstructured) bool {
	if obj == nil || obj.GetKind() != "Job" {
		return false
	}
	_, found, _ := unstructured.NestedInt64(obj.Object, "spec", "ttlSecondsAfterFinished")
	return found
}
