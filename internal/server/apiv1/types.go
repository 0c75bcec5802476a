package apiv1

import "time"

// Stable error codes. Clients switch on these; messages may change.
const (
	CodeUnauthenticated = "unauthenticated"    // 401: no, bad or expired token
	CodeTokenInQuery    = "token_in_query"     // 400: a token was sent in the URL
	CodeForbidden       = "forbidden"          // 403: Kubernetes RBAC refused the user
	CodeNotFound        = "not_found"          // 404
	CodeBadRequest      = "bad_request"        // 400: malformed parameters or body
	CodeConflict        = "conflict"           // 409: rollback conflicts with later commits
	CodeNotRollbackable = "not_rollbackable"   // 422: the source does not track a branch, no such revision, or nothing to roll back
	CodeCSRF            = "csrf"               // 403: missing or wrong CSRF token (browser sessions)
	CodeScope           = "insufficient_scope" // 403: the token was not granted the scope this request needs
	CodeUnavailable     = "unavailable"        // 503: Kubernetes or Git unreachable
	CodeInternal        = "internal"           // 500
)

// Error is the body of every non-2xx response.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Files names the conflicting files of a CodeConflict rollback.
	Files []string `json:"files,omitempty"`
}

// ErrorResponse wraps Error as {"error": {...}}.
type ErrorResponse struct {
	Error Error `json:"error"`
}

// Sync and health values, as in the Application status.
const (
	SyncSynced    = "Synced"
	SyncOutOfSync = "OutOfSync"
	SyncUnknown   = "Unknown"

	HealthHealthy     = "Healthy"
	HealthProgressing = "Progressing"
	HealthDegraded    = "Degraded"
	HealthSuspended   = "Suspended"
	HealthMissing     = "Missing"
	HealthUnknown     = "Unknown"
)

// Whoami is GET /api/v1/whoami: the identity requests are made as.
type Whoami struct {
	User   string   `json:"user"`
	Groups []string `json:"groups,omitempty"`
}

// Application is one Application in lists and on its own.
type Application struct {
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	Source    SourceRef `json:"source"`
	Path      string    `json:"path,omitempty"`
	Suspended bool      `json:"suspended"`
	// Sync is Synced, OutOfSync or Unknown.
	Sync string `json:"sync"`
	// Health is the worst health of the application's resources.
	Health string `json:"health"`
	// Ready is the Ready condition: "True", "False" or "Unknown".
	Ready string `json:"ready"`
	// Reason and Message are the Ready condition's.
	Reason          string     `json:"reason,omitempty"`
	Message         string     `json:"message,omitempty"`
	Revision        string     `json:"revision,omitempty"`
	LastAttempted   string     `json:"lastAttemptedRevision,omitempty"`
	LastSyncTime    *time.Time `json:"lastSyncTime,omitempty"`
	ResourceCount   int        `json:"resourceCount"`
	ResourceVersion string     `json:"resourceVersion,omitempty"`
	// LastHandledReconcileAt is the last sync request (ActionResult's
	// RequestedAt) the operator has handled: a client waiting for its
	// sync polls until it equals its own.
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`
	// Chart is set for an Application that deploys a Helm chart.
	Chart *Chart `json:"chart,omitempty"`
}

// Chart is the Helm chart of an Application: where it comes from
// (RepoURL empty for a chart in Git) and the chart last rendered.
type Chart struct {
	RepoURL    string `json:"repoURL,omitempty"`
	Name       string `json:"name"`
	Version    string `json:"version,omitempty"`
	AppVersion string `json:"appVersion,omitempty"`
}

// SourceRef names the GitRepository an Application renders.
type SourceRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// ApplicationList is GET /api/v1/applications. Continue, when set, is
// passed back as ?continue= for the next page.
type ApplicationList struct {
	Items []Application `json:"items"`
	// Total counts the applications that matched the filters.
	Total    int            `json:"total"`
	Counts   map[string]int `json:"counts,omitempty"` // by sync and health value
	Continue string         `json:"continue,omitempty"`
}

// Source is a GitRepository.
type Source struct {
	Namespace string     `json:"namespace"`
	Name      string     `json:"name"`
	URL       string     `json:"url"`
	Ref       string     `json:"ref,omitempty"` // "branch main", "tag v1", ...
	Ready     string     `json:"ready"`
	Message   string     `json:"message,omitempty"`
	Revision  string     `json:"revision,omitempty"`
	Commit    string     `json:"commit,omitempty"`
	Subject   string     `json:"subject,omitempty"`
	Author    string     `json:"author,omitempty"`
	FetchedAt *time.Time `json:"fetchedAt,omitempty"`
	Suspended bool       `json:"suspended"`
}

// SourceList is GET /api/v1/sources.
type SourceList struct {
	Items []Source `json:"items"`
}

// Resource is one node of an application's resource tree.
type Resource struct {
	Group     string `json:"group,omitempty"`
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Sync      string `json:"sync,omitempty"`
	Health    string `json:"health,omitempty"`
	Message   string `json:"message,omitempty"`
	// Children are objects the resource owns (a Deployment's ReplicaSets
	// and their Pods); they are not in Git, so they have no Sync.
	Children []Resource `json:"children,omitempty"`
}

// ResourceTree is GET .../applications/{name}/resources.
type ResourceTree struct {
	Application string     `json:"application"`
	Resources   []Resource `json:"resources"`
}

// Diff is GET .../applications/{name}/diff: what applying Git now would
// change. Secret values are masked.
type Diff struct {
	Revision string       `json:"revision"`
	Changes  []DiffChange `json:"changes"`
}

// DiffChange is one object that differs.
type DiffChange struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Action is create, update, prune or unchanged (only changed ones are listed).
	Action string `json:"action"`
	// Patch is a unified diff of the YAML, live → Git.
	Patch string `json:"patch,omitempty"`
}

// Event is a Kubernetes Event about an application.
type Event struct {
	Type    string    `json:"type"` // Normal or Warning
	Reason  string    `json:"reason"`
	Message string    `json:"message"`
	Count   int32     `json:"count"`
	Time    time.Time `json:"time"`
}

// EventList is GET .../applications/{name}/events, newest first.
type EventList struct {
	Items []Event `json:"items"`
}

// HistoryEntry is one sync of an application, newest first.
type HistoryEntry struct {
	Revision string    `json:"revision"`
	Commit   string    `json:"commit,omitempty"`
	Subject  string    `json:"subject,omitempty"`
	Author   string    `json:"author,omitempty"`
	Time     time.Time `json:"time"`
	// Digest is "sha256:<hex>" of the manifests the sync rendered; two
	// entries with the same digest deployed the same objects, so rolling
	// back from one to the other changes nothing. Empty for syncs recorded
	// before digests were.
	Digest string `json:"digest,omitempty"`
	Result string `json:"result"`
	Error  string `json:"error,omitempty"`
}

// History is GET .../applications/{name}/history.
type History struct {
	Items []HistoryEntry `json:"items"`
}

// RollbackRequest is the body of POST .../applications/{name}/rollback.
type RollbackRequest struct {
	// Revision is the commit SHA (full, or a prefix of at least 7 hex
	// digits from the history) to roll back to.
	Revision string `json:"revision"`
}

// RollbackResult is the answer to a rollback.
type RollbackResult struct {
	// Commit is the revert commit pushed; empty when NoOp.
	Commit  string   `json:"commit,omitempty"`
	Branch  string   `json:"branch"`
	Target  string   `json:"target"`
	Changed []string `json:"changed,omitempty"`
	NoOp    bool     `json:"noOp"`
}

// ActionResult is the answer to sync, suspend and resume.
type ActionResult struct {
	Application string `json:"application"`
	Action      string `json:"action"`
	// RequestedAt is the reconcile request's value, for sync.
	RequestedAt string `json:"requestedAt,omitempty"`
}

// WatchEvent is the data of one Server-Sent Event on
// GET /api/v1/watch/applications: "event: ADDED|MODIFIED|DELETED".
type WatchEvent struct {
	Type        string      `json:"type"`
	Application Application `json:"application"`
}

// AuthConfig is GET /api/v1/authconfig, served without authentication:
// what a client needs to log in to this server.
type AuthConfig struct {
	// Issuer is the OAuth 2.1 authorization server; its metadata is at
	// Issuer + /.well-known/oauth-authorization-server (RFC 8414).
	Issuer string `json:"issuer"`
	// ClientID is the public client the CLI uses (authorization code +
	// PKCE with a loopback redirect, and the device flow).
	ClientID string `json:"clientID"`
	// Scopes the CLI should request.
	Scopes []string `json:"scopes"`
}

// SealingPublicKey is GET /api/v1/sealing/publickey: the cluster's public
// sealing keys, to seal Secrets to (cruise seal --recipient).
type SealingPublicKey struct {
	// Recipient is the newest key (age1…), the one to seal to.
	Recipient string `json:"recipient"`
	// Recipients are every key the cluster unseals with, oldest first.
	Recipients []string `json:"recipients"`
}

// ApplicationImages is GET .../applications/{name}/images: the container
// images of the application's workloads and, where an ImagePolicy follows
// an image's repository, the tag it chose and the newer tags known.
type ApplicationImages struct {
	// Items are one per container and matching policy: a container whose
	// repository no policy follows has one item without Policy, one that
	// two policies follow has two.
	Items []ApplicationImage `json:"items"`
	// Notes say what the user may not read (or what is not installed),
	// so that a missing policy is not mistaken for "no policy".
	Notes []string `json:"notes,omitempty"`
}

// ApplicationImage is one container's image and what a policy says of it.
type ApplicationImage struct {
	// Workload is the object whose pod template runs the container.
	Workload  WorkloadRef `json:"workload"`
	Container string      `json:"container"`
	// Init is true for an init container.
	Init bool `json:"init,omitempty"`
	// Image is the reference as the pod template writes it.
	Image string `json:"image"`
	// Repository is the image's repository with the registry spelled out
	// (index.docker.io/library/nginx for nginx); empty when Image does
	// not parse.
	Repository string `json:"repository,omitempty"`
	// Tag and Digest are the running image's; either may be empty.
	Tag    string `json:"tag,omitempty"`
	Digest string `json:"digest,omitempty"`
	// Policy is the ImagePolicy, "namespace/name", following Repository
	// through ImageRepository ("namespace/name"); both are empty when no
	// policy the user may read follows it.
	Policy          string `json:"policy,omitempty"`
	ImageRepository string `json:"imageRepository,omitempty"`
	// PolicyReady is the policy's Ready condition ("True", "False",
	// "Unknown") and PolicyMessage its message.
	PolicyReady   string `json:"policyReady,omitempty"`
	PolicyMessage string `json:"policyMessage,omitempty"`
	// Latest is the tag the policy chose (status.latestRef), the one an
	// ImageUpdateAutomation would deploy; LatestDigest its digest when
	// the policy pins digests.
	Latest       string `json:"latest,omitempty"`
	LatestDigest string `json:"latestDigest,omitempty"`
	// UpdateAvailable is true when the policy chose another tag than the
	// running one and prefers it (or the running tag is not one the
	// policy would ever choose).
	UpdateAvailable bool `json:"updateAvailable"`
	// Newer are the tags of the repository's last scan (its ten newest)
	// and Latest that the policy prefers to the running tag, preferred
	// first. Empty when the running tag is not one the policy ranks.
	Newer []string `json:"newer,omitempty"`
	// Held are the versions ImageUpdateAutomations hold back for the
	// policy after a rollback.
	Held []ImageHold `json:"held,omitempty"`
}

// WorkloadRef names a workload: Deployment, StatefulSet, DaemonSet,
// ReplicaSet, Job, CronJob or Pod.
type WorkloadRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// ImageHold is a version an ImageUpdateAutomation does not write again
// until a newer one appears or the hold is lifted (cruise resume image
// update NAME).
type ImageHold struct {
	// Automation is the ImageUpdateAutomation, "namespace/name".
	Automation string `json:"automation"`
	// Tag and Image are the held version ("name:tag[@digest]").
	Tag   string `json:"tag"`
	Image string `json:"image"`
	// Commit is the branch head at which the rollback was noticed.
	Commit string    `json:"commit,omitempty"`
	Since  time.Time `json:"since"`
}
