// Package notify turns what happens to cruise's objects into messages and
// delivers them. It has no Kubernetes imports: the controller feeds it
// Events (Dispatcher.Notify) and configures it with Alerts and Providers
// (SetAlert, SetProvider); it reads delivery outcomes back (AlertState).
//
//   - event.go: the Event, exactly the versioned webhook payload (v1).
//   - key.go: the deduplication key of a failure: type, object, reason and
//     the message with its volatile text (times, durations, SHAs, UIDs,
//     numbers) stripped.
//   - alert.go, template.go, messages.go: Alert matching (kind, name glob,
//     labels, severity, inclusion and exclusion patterns), Go templates and
//     the default subjects and bodies.
//   - dispatcher.go, router.go: one routing goroutine applies the "once,
//     not a flood" rules (one message per Alert and cause, one Recovered to
//     every Alert that got the failure, digests during bursts) and pushes
//     messages onto the Providers' queues.
//   - queue.go: one bounded queue and goroutine per Provider, delivering in
//     order, retrying retryable errors with exponential backoff or the
//     receiver's Retry-After; full queues drop their oldest message. A slow
//     or dead receiver delays only its own queue; Notify never blocks.
//   - sender.go, senders.go: the Sender interface (one attempt) and the
//     constructor for each provider type; webhook.go is the generic
//     webhook, signed with HMAC-SHA256 like cruise's own push webhooks.
//   - metrics.go: cruise_notifications_* and cruise_notification_*.
//
// notifytest has a webhook sink and a dead receiver for tests.
package notify
