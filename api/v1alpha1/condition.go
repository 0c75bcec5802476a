package v1alpha1

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
	ReasonSucceeded          = "Succeeded"
	ReasonProgressing        = "Progressing"
	ReasonFetchFailed        = "FetchFailed"
	ReasonSourceNotReady     = "SourceNotReady"
	ReasonSourceNotFound     = "SourceNotFound"
	ReasonSourceNotAllowed   = "SourceNotAllowed"
	ReasonRenderFailed       = "RenderFailed"
	ReasonValidationFailed   = "ValidationFailed"
	ReasonApplyFailed        = "ApplyFailed"
	ReasonPruneFailed        = "PruneFailed"
	ReasonHealthCheckFailed  = "HealthCheckFailed"
	ReasonDependencyNotReady = "DependencyNotReady"
	ReasonSuspended          = "Suspended"
	ReasonDriftDetected      = "DriftDetected"
	ReasonForbidden          = "Forbidden"
)

// ReconcileRequestAnnotation asks for a reconcile now when its value
// changes (`cruise reconcile` sets it to the current time).
const ReconcileRequestAnnotation = "cruise.dev/reconcile-at"
