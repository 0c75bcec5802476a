// Package controller holds cruise's reconcilers: GitRepository, which
// fetches a repository on its interval (or at once on a push webhook),
// Application, which renders a path of that repository and keeps it
// applied to the cluster in both directions: new commits are deployed, and
// changes made in the cluster that Git does not describe are reverted, and
// SealedSecret, which decrypts sealed values into Secrets.
//
// Each reconciler has the same shape: get the object, defer the status
// patch, handle deletion (finalizer) and suspension, then run an ordered
// list of phases. A phase returns a typed error (see errors.go) that says
// which condition reason to report and whether retrying can help; one
// function (outcomes.finish) turns it into conditions, an event, a log line
// and the requeue, for every reconciler. No error goes back to the
// workqueue: failures are retried on the object's own schedule (first
// retry after retryInterval, then doubling up to interval, reset on
// success) and every requeue is jittered (retry.go).
//
// An Application's status is written when a sync starts and at each phase
// boundary (statusWriter), so a long health wait shows Reconciling with the
// revision being applied; observedGeneration is set only when the sync of
// that generation has finished. Applications are read past the cache at the
// start of a reconcile, so that one queued behind another sees what that
// one wrote.
//
// One fetch serves every Application of a repository: the GitRepository
// reconciler publishes each checkout in an ArtifactStore and the
// Applications read it from there. A new revision that changes none of the
// files an Application's last render read is recorded without rendering
// or applying anything. The store and each sync hold the checkouts they
// use; the StorageCollector removes the rest from the Git cache after
// each new revision and on a schedule, so the disk use stays flat.
//
// SealedSecrets are unsealed by a third reconciler with the cluster's
// sealing keys, which the key manager (sealingKeys, on the leader) creates
// on first start, rotates, publishes and reloads when the keys Secret
// changes. The reconciler writes the Secret a SealedSecret describes only
// when every value opens as that namespace, name and key, never writes a
// Secret it does not control, and watches Secrets through metadata only,
// so no Secret data is cached for it.
//
// Drift is seen through metadata-only informers on the kinds the
// Applications manage, filtered by cruise's owner labels, so memory stays
// flat and objects cruise does not manage cost nothing. Updates that only
// change status (no generation, label or annotation change) or that cruise
// itself made are ignored, so noisy objects cause no reconciles.
//
// Image automation starts with two reconcilers. ImageRepository lists an
// image's tags on its interval (image.Scan) and keeps them in memory, in
// an ImageTagStore, with only a summary in its status; it scans only when
// a scan is due, a new spec or `cruise reconcile` asks, never because its
// status changed. ImagePolicy chooses one of those tags (image.Selector,
// then the minimum age read from image configs, cached per tag, then the
// digest) and records it as status.latestRef; the store wakes the
// policies of a repository whose tags changed.
//
// Notifications: the reconcilers tell a Notifier what happened (syncs,
// drift reverted, image updates pushed, rollbacks deployed) and
// outcomes.finish tells it how each reconcile ended (a failure, not a wait;
// a success after a failure); internal/notify decides what is sent. The
// Provider and Alert reconcilers configure its senders and routes and
// report, in the Alerts' status, how the last delivery went (at most one
// status write per Alert every few seconds). On the leader the Dispatcher
// starts once the Providers and Alerts are loaded and the failures shown in
// status are seeded, so that a restart does not announce them again.
package controller
