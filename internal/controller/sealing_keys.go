package controller

import (
	"context"
	"fmt"
	"sync"
	"time"

	"filippo.io/age"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/cruisegitops/cruise/internal/seal"
	"github.com/cruisegitops/cruise/internal/sealkeys"
)

// The key manager's retry after a failure to read or write the keys:
// first after keysRetryMin, doubling up to keysRetryMax.
const (
	keysRetryMin = time.Second
	keysRetryMax = 5 * time.Minute
)

// sealingKeys is the leader's keeper of the cluster's sealing keys, a
// manager Runnable. When it starts it makes sure a key exists and the
// public keys are published (sealkeys.Store.EnsureCurrent), then adds a
// key each time the newest one reaches the rotation interval. It holds the
// ring in memory for the SealedSecret reconciler, and reloads it whenever
// the keys Secret changes: `cruise secrets restore` adding keys while the
// controller runs, or a person editing the Secret. Keys added from
// outside wake the SealedSecrets that failed to unseal (grown).
//
// The Secret is the source of truth, with one exception: if it is deleted
// while the controller holds keys, the controller writes them back, so an
// accidental `kubectl delete secret` loses nothing. Removing entries from
// the Secret does retire those keys.
type sealingKeys struct {
	store     sealkeys.Store
	informers cache.Informers
	interval  time.Duration
	metrics   *Metrics
	now       func() time.Time

	mu     sync.RWMutex
	ring   seal.Ring      // guarded by mu
	ids    []age.Identity // guarded by mu; the ring's identities, newest first
	loaded chan struct{}  // closed once the first ring is held
	grown  chan struct{}  // a token when keys were added from outside
}

// newSealingKeys makes the key manager. store should read past any cache:
// it writes, and retries on conflicts with what it read. informers watch
// the keys Secret (metadata only).
func newSealingKeys(store sealkeys.Store, informers cache.Informers, interval time.Duration, m *Metrics) *sealingKeys {
	return &sealingKeys{
		store: store, informers: informers, interval: interval, metrics: m, now: time.Now,
		loaded: make(chan struct{}), grown: make(chan struct{}, 1),
	}
}

// identities returns the keys to unseal with, newest first, waiting at
// most wait for the first load; ok is false if none are held yet.
func (k *sealingKeys) identities(ctx context.Context, wait time.Duration) (ids []age.Identity, ok bool) {
	select {
	case <-k.loaded:
	default:
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-k.loaded:
		case <-t.C:
			return nil, false
		case <-ctx.Done():
			return nil, false
		}
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.ids, len(k.ids) > 0
}

// Grown receives a token when keys the controller did not make itself
// were added: what failed to unseal may unseal now.
func (k *sealingKeys) Grown() <-chan struct{} { return k.grown }

// Start keeps the keys until ctx ends. Failures are logged and retried
// with a backoff: without keys nothing unseals, but everything else the
// controller does carries on.
func (k *sealingKeys) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithName("sealing-keys")
	ctx = log.IntoContext(ctx, logger)
	changed := make(chan struct{}, 1)
	if err := k.watch(ctx, changed); err != nil {
		return err
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	failures := 0
	for {
		var (
			next time.Duration
			err  error
		)
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
			next, err = k.ensure(ctx, false)
		case <-changed:
			next, err = k.ensure(ctx, true)
		}
		if err != nil {
			failures++
			next = min(keysRetryMin<<min(failures-1, 16), keysRetryMax)
			logger.Error(err, "sealing keys not current; retrying", "failures", failures, "retryAfter", next)
		} else {
			failures = 0
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		if next > 0 {
			timer.Reset(next)
		}
	}
}

// watch signals changed on every change of the keys Secret, through the
// manager's metadata informer for Secrets (the SealedSecret reconciler
// watches the same one).
func (k *sealingKeys) watch(ctx context.Context, changed chan<- struct{}) error {
	inf, err := k.informers.GetInformer(ctx, secretMetadata())
	if err != nil {
		return fmt.Errorf("watch the sealing keys Secret: %w", err)
	}
	ns := k.store.Namespace
	if ns == "" {
		ns = sealkeys.DefaultNamespace
	}
	notify := func(obj any) {
		if tomb, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		m, ok := obj.(metav1.Object)
		if !ok || m.GetNamespace() != ns || m.GetName() != sealkeys.SecretName {
			return
		}
		select {
		case changed <- struct{}{}:
		default: // one pending reload covers every change before it
		}
	}
	reg, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    notify,
		UpdateFunc: func(_, obj any) { notify(obj) },
		DeleteFunc: notify,
	})
	if err != nil {
		return fmt.Errorf("watch the sealing keys Secret: %w", err)
	}
	go func() {
		<-ctx.Done()
		_ = inf.RemoveEventHandler(reg)
	}()
	return nil
}

// ensure brings the keys up to date: a key when one is due, the public
// keys published, the ring held. external says the Secret changed (not
// by the clock), so keys may have come from outside. It returns when to
// look again (0: only when the Secret changes).
func (k *sealingKeys) ensure(ctx context.Context, external bool) (time.Duration, error) {
	now := k.now()
	k.mu.RLock()
	held := k.ring
	k.mu.RUnlock()
	// Checked on every pass, not only when the watch says the Secret
	// changed: a rotation due before the deletion is seen would otherwise
	// start a new Secret with a single new key.
	if held.Len() > 0 {
		ring, err := k.store.Load(ctx)
		if err != nil {
			return 0, err
		}
		if ring.Len() == 0 {
			// The Secret is gone (or emptied): write back what is held
			// rather than let a new key replace every old one.
			log.FromContext(ctx).Info("the sealing keys Secret was deleted or emptied; writing back the keys held in memory",
				"namespace", k.store.Namespace, "keys", held.Len())
			if _, _, err := k.store.Add(ctx, held.Keys()...); err != nil {
				return 0, err
			}
		}
	}
	ring, next, err := k.store.EnsureCurrent(ctx, now, k.interval)
	if err != nil {
		return 0, err
	}
	k.hold(ctx, ring, external)
	return next, nil
}

// hold replaces the ring in memory; when external and the ring gained a
// key, it signals grown.
func (k *sealingKeys) hold(ctx context.Context, ring seal.Ring, external bool) {
	k.mu.Lock()
	before := k.ring
	k.ring, k.ids = ring, ring.Identities()
	k.mu.Unlock()
	k.metrics.observeKeys(ring)
	select {
	case <-k.loaded:
	default:
		close(k.loaded)
		log.FromContext(ctx).Info("sealing keys loaded", "keys", ring.Len(), "newest", newestRecipient(ring))
		return
	}
	gained := gainedKeys(before, ring)
	if gained == 0 {
		return
	}
	log.FromContext(ctx).Info("sealing keys added", "added", gained, "keys", ring.Len(), "newest", newestRecipient(ring))
	if external {
		select {
		case k.grown <- struct{}{}:
		default:
		}
	}
}

// gainedKeys counts the keys of after that before did not hold.
func gainedKeys(before, after seal.Ring) int {
	had := map[string]bool{}
	for _, r := range before.Recipients() {
		had[r] = true
	}
	n := 0
	for _, r := range after.Recipients() {
		if !had[r] {
			n++
		}
	}
	return n
}

func newestRecipient(ring seal.Ring) string {
	if k, ok := ring.Newest(); ok {
		return k.String()
	}
	return ""
}
