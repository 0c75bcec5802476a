package apply

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Well-known labels and annotations.
const (
	// LabelName and LabelNamespace mark every applied object with the
	// inventory it belongs to; prune deletes nothing without them.
	LabelName      = "cruise.dev/name"
	LabelNamespace = "cruise.dev/namespace"
	// AnnotationForce: "enabled" lets an immutable-field change recreate
	// the object.
	AnnotationForce = "cruise.dev/force"
	// AnnotationPrune: "disabled" keeps the object when it leaves Git.
	AnnotationPrune = "cruise.dev/prune"
)

// ObjRef identifies one object in the cluster.
type ObjRef struct {
	Group     string `json:"group,omitempty"`
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// GroupKind returns the object's group and kind.
func (r ObjRef) GroupKind() schema.GroupKind { return schema.GroupKind{Group: r.Group, Kind: r.Kind} }

// Key identifies the object independently of its API version.
func (r ObjRef) Key() string { return r.Group + "_" + r.Kind + "_" + r.Namespace + "_" + r.Name }

// String formats the reference as Kind/namespace/name (Kind/name for
// cluster-scoped objects), the form used in every message.
func (r ObjRef) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// Action says what happened, or would happen, to one object.
type Action string

const (
	Created    Action = "created"
	Configured Action = "configured"
	Unchanged  Action = "unchanged"
	Recreated  Action = "recreated" // deleted and created for an immutable-field change
	Pruned     Action = "pruned"
	// PruneSkipped: no longer in Git but kept (cruise.dev/prune: disabled,
	// a Namespace or CRD still in use, or another owner took it over).
	PruneSkipped Action = "prune-skipped"
)

// Change is the outcome for one object.
type Change struct {
	Ref    ObjRef `json:"ref"`
	Source string `json:"source,omitempty"` // file the object came from
	Action Action `json:"action"`
	// Message explains a PruneSkipped or Recreated action.
	Message string `json:"message,omitempty"`
}

// HealthStatus is an object's kstatus result.
type HealthStatus string

const (
	Current    HealthStatus = "Current"
	InProgress HealthStatus = "InProgress"
	Failed     HealthStatus = "Failed"
	NotFound   HealthStatus = "NotFound"
	Unknown    HealthStatus = "Unknown"
)

// Health is one object's health.
type Health struct {
	Ref     ObjRef       `json:"ref"`
	Status  HealthStatus `json:"status"`
	Message string       `json:"message,omitempty"`
}

// Result is the outcome of Apply.
type Result struct {
	Changes []Change `json:"changes"`
	// Health is filled when ApplyOptions.WaitTimeout > 0.
	Health []Health `json:"health,omitempty"`
}

// Owner names the inventory the objects belong to; it becomes the
// LabelName and LabelNamespace labels.
type Owner struct {
	Name      string
	Namespace string
}

// Inventory stores the set of objects applied under one name. Load returns
// an empty set when nothing was recorded yet.
type Inventory interface {
	Load(ctx context.Context) ([]ObjRef, error)
	Store(ctx context.Context, refs []ObjRef) error
}

// EventType tells what a progress Event reports.
type EventType string

const (
	EventApplied EventType = "applied" // Change is set
	EventPruned  EventType = "pruned"  // Change is set
	EventHealth  EventType = "health"  // Health is set
)

// Event reports progress while Apply runs; see ApplyOptions.Progress.
type Event struct {
	Type   EventType
	Change Change
	Health Health
}

// Namespaces says where namespaced objects go.
type Namespaces struct {
	// Default is the namespace of namespaced objects that name none (as
	// kubectl -n).
	Default string
	// Target, when set, overrides the namespace of every namespaced object
	// (as kustomize's namespace:).
	Target string
}

// ApplyOptions configures Engine.Apply.
type ApplyOptions struct {
	Owner Owner
	// Inventory records what was applied; nil records nothing and makes
	// Prune impossible.
	Inventory  Inventory
	Namespaces Namespaces
	// Prune deletes objects of the previous inventory that are no longer in
	// the set.
	Prune bool
	// Force recreates objects whose immutable fields changed.
	Force bool
	// DryRun runs every step against the API server with dryRun=All: the
	// result says what would happen, nothing is changed or recorded.
	DryRun bool
	// WaitTimeout > 0 waits up to that long for every applied object to be
	// healthy (Current). Result.Health holds the outcome.
	WaitTimeout time.Duration
	// Progress, when set, is called for every applied and pruned object and
	// every health change while waiting, from one goroutine at a time.
	Progress func(Event)
}

// DiffOptions configures Engine.Diff.
type DiffOptions struct {
	Owner      Owner
	Inventory  Inventory
	Namespaces Namespaces
	// Prune reports objects of the inventory that are no longer rendered.
	Prune bool
}

// ObjectDiff is the comparison of one object with the cluster.
type ObjectDiff struct {
	Ref    ObjRef `json:"ref"`
	Source string `json:"source,omitempty"`
	// Action is Created (missing from the cluster), Configured (drifted),
	// Unchanged, or Pruned (would be deleted).
	Action Action `json:"action"`
	// Diff is a unified diff of the live object (---) and the object as Git
	// wants it (+++), in YAML, secrets masked. Empty when Unchanged.
	Diff string `json:"diff,omitempty"`
}

// Drifted reports whether the object differs from what Git describes.
func (d ObjectDiff) Drifted() bool { return d.Action != Unchanged }

// ObjectError is an error about one object; it names the object and the
// file it came from.
type ObjectError struct {
	Ref    ObjRef
	Source string
	Err    error
}

func (e *ObjectError) Error() string {
	if e.Source == "" {
		return fmt.Sprintf("%s: %v", e.Ref, e.Err)
	}
	return fmt.Sprintf("%s (%s): %v", e.Ref, e.Source, e.Err)
}

func (e *ObjectError) Unwrap() error { return e.Err }

// Errors callers tell apart with errors.Is.
var (
	// ErrInvalid: the API server rejected an object in the dry-run; nothing
	// was changed.
	ErrInvalid = errors.New("invalid object")
	// ErrUnknownKind: no API serves the object's kind (a CRD is missing).
	ErrUnknownKind = errors.New("unknown kind")
	// ErrImmutable: a change hits an immutable field and force is off.
	ErrImmutable = errors.New("immutable field changed")
	// ErrForbidden: the identity applying may not do what an object needs.
	ErrForbidden = errors.New("forbidden")
	// ErrUnhealthy: everything was applied, but not every object became
	// healthy within the wait timeout.
	ErrUnhealthy = errors.New("not healthy")
)
