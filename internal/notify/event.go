package notify

import (
	"time"
)

// PayloadVersion is the version of the webhook payload, a contract:
// fields are only ever added within a version.
const PayloadVersion = "v1"

// EventType says what happened.
type EventType string

// The event types.
const (
	// Synced: a new revision was applied (and is healthy, when waited for).
	Synced EventType = "Synced"
	// Failed: the desired state cannot be reached.
	Failed EventType = "Failed"
	// HealthDegraded: applied objects stopped being healthy.
	HealthDegraded EventType = "HealthDegraded"
	// DriftReverted: a change made in the cluster was put back.
	DriftReverted EventType = "DriftReverted"
	// Recovered: a Failed or HealthDegraded object is Ready again.
	Recovered EventType = "Recovered"
	// ImageUpdated: image automation committed new versions.
	ImageUpdated EventType = "ImageUpdated"
	// RolledBack: a rollback commit was made.
	RolledBack EventType = "RolledBack"
	// Digest: many events summarised in one message during an outage.
	Digest EventType = "Digest"
)

// Severity of an event.
type Severity string

// Severities: Alerts with severity error get Failed, HealthDegraded and
// the Recovered that ends them; info gets everything.
const (
	SeverityInfo  Severity = "info"
	SeverityError Severity = "error"
)

// ObjectRef names the object an event is about.
type ObjectRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	UID       string `json:"uid,omitempty"`
}

// Commit is the Git commit an event is about.
type Commit struct {
	SHA     string `json:"sha"`
	Subject string `json:"subject,omitempty"`
	Author  string `json:"author,omitempty"`
}

// Event is one notification, exactly as the webhook payload carries it
// (version v1). ID is unique per event and the same on every retry of its
// delivery, so receivers can drop duplicates.
type Event struct {
	Version  string    `json:"version"`
	ID       string    `json:"id"`
	Time     time.Time `json:"time"`
	Type     EventType `json:"type"`
	Severity Severity  `json:"severity"`
	Object   ObjectRef `json:"object"`
	// Revision is "<ref>@sha1:<40 hex>".
	Revision string `json:"revision,omitempty"`
	// Reason is the Ready condition's reason.
	Reason string `json:"reason,omitempty"`
	// Message names the object and file that failed, for failures.
	Message string  `json:"message,omitempty"`
	Commit  *Commit `json:"commit,omitempty"`
	// Objects are the objects the event concerns (changed, failed,
	// reverted), as "Kind/namespace/name".
	Objects []string `json:"objects,omitempty"`
	// URL links to the object in cruise server, when a public URL is set.
	URL string `json:"url,omitempty"`
	// Labels are the object's labels, for Alerts' matchLabels; not sent.
	Labels map[string]string `json:"-"`
	// Source is the URL of the Git repository the object deploys from
	// (a GitRepository's own), for commit-status Providers whose address
	// is an API base URL; not sent.
	Source string `json:"-"`
	// Events are the summarised events of a Digest.
	Events []Event `json:"events,omitempty"`
}

// Message is an event rendered for a Provider: the subject and body an
// Alert's templates (or the defaults) made of it.
type Message struct {
	Event   Event
	Subject string
	Body    string
}

// String is "Kind/namespace/name".
func (o ObjectRef) String() string { return o.Kind + "/" + o.Namespace + "/" + o.Name }

// IsFailure reports whether the type starts or continues a failure
// episode, which a Recovered ends.
func (t EventType) IsFailure() bool { return t == Failed || t == HealthDegraded }

// severityOf is the severity of an event type: error for failures, info
// for everything else (a Recovered reaches error Alerts through the
// failure it ends, not through its severity).
func severityOf(t EventType) Severity {
	if t.IsFailure() {
		return SeverityError
	}
	return SeverityInfo
}
