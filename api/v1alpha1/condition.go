package v1alpha1

import "time"

// Condition types, following the kstatus conventions: Ready is the summary
// a person or tool looks at; Reconciling is True while work is under way;
// Stalled is True when retrying will not help until something changes.
const (
	ConditionReady       = "Ready"
	ConditionReconciling = "Reconciling"
	ConditionStalled     = "Stalled"
	// ConditionHealthy (Applications) is True when every applied object is
	// Current in kstatus terms.
	ConditionHealthy = "Healthy"
)

// Condition reasons.
const (
	ReasonSucceeded        = "Succeeded"
	ReasonProgressing      = "Progressing"
	ReasonFetchFailed      = "FetchFailed"
	ReasonSourceNotReady   = "SourceNotReady"
	ReasonSourceNotFound   = "SourceNotFound"
	ReasonSourceNotAllowed = "SourceNotAllowed"
	ReasonRenderFailed     = "RenderFailed"
	// ReasonHookFailed: a Helm hook of the chart failed or did not finish
	// in time; with a pre-hook, nothing of the release was applied.
	ReasonHookFailed         = "HookFailed"
	ReasonValidationFailed   = "ValidationFailed"
	ReasonApplyFailed        = "ApplyFailed"
	ReasonPruneFailed        = "PruneFailed"
	ReasonHealthCheckFailed  = "HealthCheckFailed"
	ReasonDependencyNotReady = "DependencyNotReady"
	ReasonSuspended          = "Suspended"
	ReasonDriftDetected      = "DriftDetected"
	ReasonForbidden          = "Forbidden"
	// ReasonPruneSkipped: an Application was deleted without pruning,
	// because the identity to prune with is gone; or, as an event, a sync
	// kept objects no longer in Git (prune disabled, or a Namespace or CRD
	// that may still be in use).
	ReasonPruneSkipped = "PruneSkipped"
)

// GitRepository fetch reasons. The first group stalls (retrying alone will
// not help: the spec, the credentials or the repository must change), the
// second backs off and retries.
const (
	ReasonInvalidSource        = "InvalidSource"
	ReasonAuthenticationFailed = "AuthenticationFailed"
	ReasonHostKeyRejected      = "HostKeyRejected"
	ReasonRepositoryNotFound   = "RepositoryNotFound"
	ReasonCheckoutTooLarge     = "CheckoutTooLarge"
	ReasonUnsafePath           = "UnsafePath"

	ReasonRefNotFound       = "RefNotFound"
	ReasonRemoteUnreachable = "RemoteUnreachable"
	ReasonSecretNotFound    = "SecretNotFound"
)

// ReconcileRequestAnnotation asks for a reconcile now when its value
// changes (`cruise reconcile` sets it to the current time).
const ReconcileRequestAnnotation = "cruise.dev/reconcile-at"

// ReconcileRequest is the "metadata" of a merge patch that asks for a
// reconcile now, as every cruise tool does (the CLI, the server, the push
// webhook), and the value it sets, which status.lastHandledReconcileAt
// echoes once the request is handled.
func ReconcileRequest(now time.Time) (metadata map[string]any, value string) {
	value = now.UTC().Format(time.RFC3339Nano)
	return map[string]any{"annotations": map[string]any{ReconcileRequestAnnotation: value}}, value
}
