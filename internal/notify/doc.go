// Package notify turns what happens to cruise's objects into messages and
// delivers them: the event model and its versioned webhook payload, the
// deduplication that sends one Failed per cause and one Recovered when it
// heals, per-Provider bounded queues with retries that honour Retry-After,
// and one Sender per provider type (one file each). It has no Kubernetes
// imports: the controller feeds it Events and reads delivery results back.
package notify
