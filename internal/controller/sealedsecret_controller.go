package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"filippo.io/age"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
)

// sealedSecretConcurrency is how many SealedSecrets are unsealed at once.
// The work is a few X25519 operations and two API writes each.
const sealedSecretConcurrency = 4

// keysWait is how long a reconcile waits for the sealing keys after the
// controller starts, before trying again later.
const keysWait = 10 * time.Second

// sealedRetry backs off failures to write a Secret (the API server,
// RBAC). Unsealing failures are not retried on a timer: they wait for
// what can fix them (a new spec, new keys, the foreign Secret gone).
func sealedRetry() retryTiming { return retryTiming{Interval: 5 * time.Minute, Retry: 5 * time.Second} }

// keyRing is what the reconciler needs of the key manager.
type keyRing interface {
	// identities waits at most wait for the first keys.
	identities(ctx context.Context, wait time.Duration) ([]age.Identity, bool)
	// Grown receives a token when keys were added from outside.
	Grown() <-chan struct{}
}

// SealedSecretReconciler unseals each SealedSecret into the Secret it
// describes, and keeps that Secret as described: hand edits are reverted,
// a deleted Secret is recreated. It never writes a Secret it does not
// control.
//
// Secrets are watched through a metadata-only informer (no Secret data is
// cached) and read past the cache only when one must be written or
// compared. A SealedSecret is decrypted only when its generation, or its
// Secret's resourceVersion, differs from the last state this process
// unsealed and reported (unsealed): events that change neither cost a
// cache lookup.
type SealedSecretReconciler struct {
	Client client.Client
	// APIReader reads Secrets past the cache.
	APIReader client.Reader
	Keys      keyRing
	Recorder  events.EventRecorder
	Metrics   *Metrics

	outcomes *outcomes
	unsealed unsealedStates
}

// SetupWithManager registers the reconciler and its watches.
func (r *SealedSecretReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.outcomes = newOutcomes(r.Recorder)
	return ctrl.NewControllerManagedBy(mgr).
		// Status writes, its own included, need no reconcile.
		For(&cruisev1.SealedSecret{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// Its Secret edited or deleted: revert or recreate it.
		Owns(&corev1.Secret{}, builder.OnlyMetadata).
		// A Secret of the same name that it does not control, created or
		// deleted: SecretNotOwned starts or ends.
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.sameName),
			builder.OnlyMetadata, builder.WithPredicates(notSealedSecretControlled())).
		// Keys restored while running: retry what failed to unseal.
		WatchesRawSource(source.Func(r.retryOnNewKeys)).
		WithOptions(ctrlOptions(sealedSecretConcurrency)).
		Named("sealedsecret").
		Complete(r)
}

// secretMetadata is a Secret as the metadata informer holds it.
func secretMetadata() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	return m
}

// Reconcile unseals one SealedSecret.
func (r *SealedSecretReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	ss := &cruisev1.SealedSecret{}
	// Once it is deleted, the garbage collector deletes its Secret.
	if ok, err := readLive(ctx, r.Client, req.NamespacedName, ss, r.forget); !ok {
		return ctrl.Result{}, err
	}
	current := secretMetadata()
	if err := r.Client.Get(ctx, req.NamespacedName, current); apierrors.IsNotFound(err) {
		current = nil
	} else if err != nil {
		return ctrl.Result{}, fmt.Errorf("read Secret %s from the cache: %w", req.NamespacedName, err)
	}
	if current != nil && r.unsealed.holds(req.NamespacedName, ss, current.ResourceVersion) {
		return ctrl.Result{}, nil
	}
	ids, ok := r.Keys.identities(ctx, keysWait)
	if !ok {
		log := ctrl.LoggerFrom(ctx)
		log.Info("no sealing keys held yet; trying again later")
		return ctrl.Result{RequeueAfter: keysWait}, nil
	}

	before := ss.DeepCopy()
	var written string // the Secret's resourceVersion once it is as described
	defer func() {
		if !equality.Semantic.DeepEqual(before.Status, ss.Status) {
			// Bound to the resourceVersion read: when the SealedSecret was
			// deleted and created again while this reconcile ran, the
			// status written and the memo below would otherwise be the new
			// one's, and it would never be looked at. Any change refuses
			// the patch, and brings its own reconcile.
			lock := client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})
			if err := r.Client.Status().Patch(ctx, ss, lock); err != nil {
				if !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
					retErr = errors.Join(retErr, fmt.Errorf("write status of SealedSecret %s: %w", req.NamespacedName, err))
				}
				return
			}
		}
		if written != "" {
			r.unsealed.put(req.NamespacedName, before, written)
		}
	}()

	written, err := r.unseal(ctx, ss, current, ids)
	if errors.Is(err, errRace) {
		// Someone wrote the Secret between our read and our write; the
		// watch brings the next reconcile, this requeue is a safety net.
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	timing := sealedRetry()
	var pe *phaseError
	if errors.Is(err, errRefusedType) ||
		errors.As(err, &pe) && (pe.Reason == cruisev1.ReasonUnsealFailed || pe.Reason == cruisev1.ReasonSecretNotOwned) {
		timing = retryTiming{} // no timed retry: see sealedRetry
	}
	return r.outcomes.finish(ctx, subject{
		obj: ss, conditions: &ss.Status.Conditions, observedGeneration: &ss.Status.ObservedGeneration,
		action: "Unseal", fallbackReason: cruisev1.ReasonSecretWriteFailed, timing: timing,
	}, 0, err), nil
}

// errRace: the Secret changed between the read and the write.
var errRace = errors.New("the Secret changed while it was being written")

// errRefusedType: a service-account-token Secret is filled by Kubernetes
// with the token of the ServiceAccount it names, so unsealing one would
// let whoever may create a SealedSecret obtain a ServiceAccount's token
// without the right to create Secrets (and the controller would revert
// the token anyway).
var errRefusedType = fmt.Errorf("template type %s is refused: Kubernetes fills such a Secret with a ServiceAccount's token", corev1.SecretTypeServiceAccountToken)

// unseal runs the phases: ownership, decryption, the write. It returns
// the Secret's resourceVersion once the Secret is as described.
func (r *SealedSecretReconciler) unseal(ctx context.Context, ss *cruisev1.SealedSecret, current *metav1.PartialObjectMetadata, ids []age.Identity) (string, error) {
	if current != nil && !controlledBy(current, ss) {
		return "", notOwned(ss, current)
	}
	if secretType(ss) == corev1.SecretTypeServiceAccountToken {
		return "", stalling(cruisev1.ReasonSecretWriteFailed, errRefusedType)
	}
	data, err := unsealData(ss, ids)
	r.Metrics.countUnseal(err)
	if err != nil {
		return "", stalling(cruisev1.ReasonUnsealFailed, err)
	}
	rv, action, err := r.write(ctx, ss, current != nil, data)
	if err != nil {
		return "", err
	}
	if action != "" {
		r.Recorder.Eventf(ss, nil, corev1.EventTypeNormal, cruisev1.ReasonUnsealed, "Unseal", "%s Secret %s with %s", action, ss.Name, keyList(data))
	}
	markReady(&ss.Status.Conditions, ss.Generation, cruisev1.ReasonUnsealed,
		fmt.Sprintf("unsealed %d keys into Secret %s: %s", len(data), ss.Name, keyList(data)))
	return rv, nil
}

func notOwned(ss *cruisev1.SealedSecret, secret metav1.Object) error {
	return stalling(cruisev1.ReasonSecretNotOwned, fmt.Errorf(
		"a Secret %s/%s exists that this SealedSecret does not control (%s); it is left untouched: delete it, or give the SealedSecret another name",
		ss.Namespace, ss.Name, describeController(secret)))
}

// write creates the Secret, or brings the existing one back to what is
// described. exists is what the cache says; the Secret itself is read
// past the cache, since its data are not cached. action is what was done
// ("created", "updated", "recreated"), empty when nothing was.
func (r *SealedSecretReconciler) write(ctx context.Context, ss *cruisev1.SealedSecret, exists bool, data map[string][]byte) (rv, action string, err error) {
	key := client.ObjectKeyFromObject(ss)
	if !exists {
		return r.create(ctx, ss, data, "created")
	}
	secret := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, key, secret); apierrors.IsNotFound(err) {
		return r.create(ctx, ss, data, "created")
	} else if err != nil {
		return "", "", writeError("read", key, err)
	}
	if !controlledBy(secret, ss) {
		return "", "", notOwned(ss, secret)
	}
	if conforms(secret, ss, data) {
		return secret.ResourceVersion, "", nil
	}
	if secret.Type != secretType(ss) || (secret.Immutable != nil && *secret.Immutable) {
		// A Secret's type, and an immutable Secret's data, cannot change:
		// delete it (only as read) and create it anew.
		err := r.Client.Delete(ctx, secret, client.Preconditions{UID: &secret.UID, ResourceVersion: &secret.ResourceVersion})
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			return "", "", errRace
		}
		if err != nil {
			return "", "", writeError("delete", key, err)
		}
		return r.create(ctx, ss, data, "recreated")
	}
	conform(secret, ss, data)
	if err := r.Client.Update(ctx, secret); apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return "", "", errRace
	} else if err != nil {
		return "", "", writeError("update", key, err)
	}
	return secret.ResourceVersion, "updated", nil
}

func (r *SealedSecretReconciler) create(ctx context.Context, ss *cruisev1.SealedSecret, data map[string][]byte, action string) (string, string, error) {
	secret := newSecret(ss, data)
	err := r.Client.Create(ctx, secret)
	if apierrors.IsAlreadyExists(err) {
		// Not in the cache yet, or still being deleted.
		return "", "", errRace
	}
	if err != nil {
		return "", "", writeError("create", client.ObjectKeyFromObject(ss), err)
	}
	return secret.ResourceVersion, action, nil
}

// writeError classifies a failed Secret request: refused ones (RBAC, an
// invalid Secret such as a kubernetes.io/tls without tls.key) stall until
// something changes, others back off. Both are retried on sealedRetry's
// schedule, since a RoleBinding fixed triggers nothing here.
func writeError(verb string, key types.NamespacedName, err error) error {
	err = fmt.Errorf("%s Secret %s: %w", verb, key, err)
	if apierrors.IsForbidden(err) || apierrors.IsInvalid(err) || apierrors.IsRequestEntityTooLargeError(err) {
		return stalling(cruisev1.ReasonSecretWriteFailed, err)
	}
	return transient(cruisev1.ReasonSecretWriteFailed, err)
}

// forget drops what the reconciler remembers of a SealedSecret.
func (r *SealedSecretReconciler) forget(key types.NamespacedName) {
	r.unsealed.forget(key)
	r.outcomes.forget(key)
}

// sameName maps a Secret to the SealedSecret of the same name, if any.
func (r *SealedSecretReconciler) sameName(ctx context.Context, o client.Object) []reconcile.Request {
	key := client.ObjectKeyFromObject(o)
	// The typed cache of SealedSecrets answers; a miss costs a map lookup.
	if err := r.Client.Get(ctx, key, &cruisev1.SealedSecret{}); err != nil {
		return nil
	}
	return []reconcile.Request{{NamespacedName: key}}
}

// notSealedSecretControlled passes Secrets no SealedSecret controls: the
// others are Owns' business.
func notSealedSecretControlled() predicate.Predicate {
	return predicate.NewPredicateFuncs(func(o client.Object) bool {
		ref := metav1.GetControllerOf(o)
		return ref == nil || ref.Kind != cruisev1.SealedSecretKind || ref.APIVersion != cruisev1.GroupVersion.String()
	})
}

// retryOnNewKeys requeues the SealedSecrets that failed to unseal each
// time keys are added from outside (`cruise secrets restore`).
func (r *SealedSecretReconciler) retryOnNewKeys(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-r.Keys.Grown():
			}
			var list cruisev1.SealedSecretList
			if err := r.Client.List(ctx, &list); err != nil {
				ctrl.LoggerFrom(ctx).Error(err, "list SealedSecrets to retry with the new keys")
				continue
			}
			for i := range list.Items {
				c := meta.FindStatusCondition(list.Items[i].Status.Conditions, cruisev1.ConditionReady)
				if c != nil && c.Reason == cruisev1.ReasonUnsealFailed {
					q.Add(reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
				}
			}
		}
	}()
	return nil
}

// unsealedStates remembers, per SealedSecret, the last state this process
// unsealed and reported: its UID and generation and the resourceVersion
// of the Secret as written. It is safe for concurrent use.
type unsealedStates struct {
	mu sync.Mutex
	m  map[types.NamespacedName]unsealedState // guarded by mu
}

type unsealedState struct {
	uid        types.UID
	generation int64
	secretRV   string
}

func (u *unsealedStates) holds(key types.NamespacedName, ss *cruisev1.SealedSecret, secretRV string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.m[key] == unsealedState{uid: ss.UID, generation: ss.Generation, secretRV: secretRV}
}

func (u *unsealedStates) put(key types.NamespacedName, ss *cruisev1.SealedSecret, secretRV string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		u.m = map[types.NamespacedName]unsealedState{}
	}
	u.m[key] = unsealedState{uid: ss.UID, generation: ss.Generation, secretRV: secretRV}
}

func (u *unsealedStates) forget(key types.NamespacedName) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.m, key)
}
