package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Kind names of the image automation kinds.
const (
	ImageRepositoryKind       = "ImageRepository"
	ImagePolicyKind           = "ImagePolicy"
	ImageUpdateAutomationKind = "ImageUpdateAutomation"
)

// Image automation reasons.
const (
	// ReasonScanFailed: listing a registry's tags failed.
	ReasonScanFailed = "ScanFailed"
	// ReasonRegistryUnreachable: the registry did not answer.
	ReasonRegistryUnreachable = "RegistryUnreachable"
	// ReasonImageNotFound: the registry has no such repository.
	ReasonImageNotFound = "ImageNotFound"
	// ReasonInvalidPolicy: a range or pattern that does not parse.
	ReasonInvalidPolicy = "InvalidPolicy"
	// ReasonNoMatchingTag: no tag satisfies the policy.
	ReasonNoMatchingTag = "NoMatchingTag"
	// ReasonRepositoryNotReady: the policy's ImageRepository has not
	// scanned yet, or its last scan failed.
	ReasonRepositoryNotReady = "RepositoryNotReady"
	// ReasonHeld: the chosen version was rolled back; it is held until a
	// newer one appears or the hold is lifted.
	ReasonHeld = "Held"
	// ReasonPolicyNotFound: a setter marker names a policy that does not
	// exist.
	ReasonPolicyNotFound = "PolicyNotFound"
	// ReasonPushFailed: the update commit could not be pushed.
	ReasonPushFailed = "PushFailed"
	// ReasonUpToDate: no marked value needed to change.
	ReasonUpToDate = "UpToDate"
	// ReasonInvalidTemplate: an automation's commit message or push
	// branch template does not parse, or fails on the update.
	ReasonInvalidTemplate = "InvalidTemplate"
	// ReasonInvalidSigningKey: the commit signing key Secret holds no
	// usable key, or its passphrase is missing or wrong.
	ReasonInvalidSigningKey = "InvalidSigningKey"
)

// ReleaseHoldsAnnotation lifts an ImageUpdateAutomation's holds when its
// value changes (`cruise resume image update NAME` sets it to the current
// time): the next run writes what the policies choose, held or not, and
// once that run has succeeded status.held is empty and
// status.lastHandledReleaseAt echoes the value.
const ReleaseHoldsAnnotation = "cruise.dev/release-holds"

// ReleaseHoldsRequest is the "metadata" of a merge patch that lifts an
// ImageUpdateAutomation's holds, and the value it sets, which
// status.lastHandledReleaseAt echoes once the holds are lifted. The patch
// also asks for a run now (the reconcile-at annotation).
func ReleaseHoldsRequest(now time.Time) (metadata map[string]any, value string) {
	value = now.UTC().Format(time.RFC3339Nano)
	return map[string]any{"annotations": map[string]any{
		ReleaseHoldsAnnotation: value, ReconcileRequestAnnotation: value,
	}}, value
}

// ImageRepositorySpec says which image to scan and how.
type ImageRepositorySpec struct {
	// Image is "host[:port]/path" without a tag or digest; a name without
	// a host is on Docker Hub.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:XValidation:rule="!self.contains('@')",message="image must not carry a digest"
	Image string `json:"image"`
	// Interval between scans.
	// +kubebuilder:default="5m"
	// +optional
	Interval metav1.Duration `json:"interval,omitempty"`
	// Timeout of one scan.
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`
	// SecretRef names a kubernetes.io/dockerconfigjson Secret with the
	// registry's credentials (basic or bearer-token auth).
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`
	// CertSecretRef names a Secret with ca.crt to trust, and tls.crt and
	// tls.key for client certificates.
	// +optional
	CertSecretRef *LocalObjectReference `json:"certSecretRef,omitempty"`
	// Insecure talks plain HTTP to the registry.
	// +optional
	Insecure bool `json:"insecure,omitempty"`
	// ExclusionList holds regular expressions of tags never considered;
	// default ^.*\.sig$, ^.*\.att$, ^.*\.sbom$ (replaced when set).
	// +optional
	ExclusionList []string `json:"exclusionList,omitempty"`
	// TagLimit bounds how many tags one scan keeps (default 10000).
	// +kubebuilder:validation:Minimum=1
	// +optional
	TagLimit int `json:"tagLimit,omitempty"`
	// IncludePattern, a regular expression, keeps only matching tags while
	// listing.
	// +optional
	IncludePattern string `json:"includePattern,omitempty"`
	// AccessFrom allows ImagePolicies in other namespaces to choose from
	// this repository's tags (and so to have its credentials read the
	// chosen tag's digest and image config); by default only its own
	// namespace may.
	// +optional
	AccessFrom *AccessFrom `json:"accessFrom,omitempty"`
	// Suspend stops scanning.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// ScanResult summarises the last successful scan.
type ScanResult struct {
	ScanTime metav1.Time `json:"scanTime"`
	// TagCount is the number of tags kept, after exclusion.
	TagCount int `json:"tagCount"`
	// LatestTags are up to ten of the kept tags, newest first in the
	// registry's listing order reversed (never excluded ones).
	// +optional
	LatestTags []string `json:"latestTags,omitempty"`
}

// ImageRepositoryStatus is the observed state.
type ImageRepositoryStatus struct {
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// CanonicalImageName is the image with its registry host spelled out.
	// +optional
	CanonicalImageName string `json:"canonicalImageName,omitempty"`
	// LastScanResult is the last successful scan.
	// +optional
	LastScanResult *ScanResult `json:"lastScanResult,omitempty"`
	// +optional
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`
}

// ImageRepository is an image whose tags cruise lists on an interval.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=imagerepo;imagerepos
// +kubebuilder:printcolumn:name="Image",type=string,JSONPath=`.spec.image`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Tags",type=integer,JSONPath=`.status.lastScanResult.tagCount`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ImageRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ImageRepositorySpec `json:"spec"`
	// +optional
	Status ImageRepositoryStatus `json:"status,omitempty"`
}

// ImageRepositoryList is a list of ImageRepositories.
// +kubebuilder:object:root=true
type ImageRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ImageRepository `json:"items"`
}

// NamespacedObjectReference names an object, by default in the referrer's
// namespace.
type NamespacedObjectReference struct {
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// Sort orders.
const (
	OrderAsc  = "asc"
	OrderDesc = "desc"
)

// SemVerPolicy picks the highest version in a range.
type SemVerPolicy struct {
	// Range, e.g. ">=1.2.0 <2.0.0" or "^1.x"; pre-releases count only when
	// the range names one.
	// +kubebuilder:validation:MinLength=1
	Range string `json:"range"`
}

// OrderPolicy picks the first tag in an order.
type OrderPolicy struct {
	// Order: desc (the default) picks the highest, asc the lowest.
	// +kubebuilder:validation:Enum=asc;desc
	// +kubebuilder:default=desc
	// +optional
	Order string `json:"order,omitempty"`
}

// ImagePolicyChoice is exactly one way of choosing a tag.
// +kubebuilder:validation:XValidation:rule="[has(self.semver), has(self.numerical), has(self.alphabetical)].filter(x, x).size() == 1",message="set exactly one of semver, numerical and alphabetical"
type ImagePolicyChoice struct {
	// +optional
	SemVer *SemVerPolicy `json:"semver,omitempty"`
	// +optional
	Numerical *OrderPolicy `json:"numerical,omitempty"`
	// +optional
	Alphabetical *OrderPolicy `json:"alphabetical,omitempty"`
}

// TagFilter keeps the tags a pattern matches, and compares what extract
// makes of them.
type TagFilter struct {
	// Pattern is a regular expression a tag must match.
	// +kubebuilder:validation:MinLength=1
	Pattern string `json:"pattern"`
	// Extract is a template over the pattern's groups ("$ts", "${1}");
	// default the whole tag.
	// +optional
	Extract string `json:"extract,omitempty"`
}

// Digest reflection policies.
const (
	DigestReflectNever        = "Never"
	DigestReflectAlways       = "Always"
	DigestReflectIfNotPresent = "IfNotPresent"
)

// ImagePolicySpec chooses one tag of an ImageRepository.
type ImagePolicySpec struct {
	ImageRepositoryRef NamespacedObjectReference `json:"imageRepositoryRef"`
	Policy             ImagePolicyChoice         `json:"policy"`
	// +optional
	FilterTags *TagFilter `json:"filterTags,omitempty"`
	// DigestReflectionPolicy pins the chosen tag's digest: Never (the
	// default), Always (re-read every scan), IfNotPresent (read once per
	// tag).
	// +kubebuilder:validation:Enum=Never;Always;IfNotPresent
	// +kubebuilder:default=Never
	// +optional
	DigestReflectionPolicy string `json:"digestReflectionPolicy,omitempty"`
	// MinimumAge adopts a tag only once its image (the created time in its
	// config) is at least this old.
	// +optional
	MinimumAge *metav1.Duration `json:"minimumAge,omitempty"`
}

// ImageRef is a chosen image.
type ImageRef struct {
	Name string `json:"name"`
	Tag  string `json:"tag"`
	// +optional
	Digest string `json:"digest,omitempty"`
}

// String is name:tag[@digest].
func (r *ImageRef) String() string {
	if r == nil {
		return ""
	}
	s := r.Name + ":" + r.Tag
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// ImagePolicyStatus is the observed state.
type ImagePolicyStatus struct {
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// LatestRef is the tag the policy chose.
	// +optional
	LatestRef *ImageRef `json:"latestRef,omitempty"`
	// ObservedPreviousRef is the tag chosen before LatestRef.
	// +optional
	ObservedPreviousRef *ImageRef `json:"observedPreviousRef,omitempty"`
	// +optional
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`
}

// ImagePolicy chooses the tag to deploy from an ImageRepository's tags.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Image",type=string,JSONPath=`.status.latestRef.name`
// +kubebuilder:printcolumn:name="Tag",type=string,JSONPath=`.status.latestRef.tag`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ImagePolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ImagePolicySpec `json:"spec"`
	// +optional
	Status ImagePolicyStatus `json:"status,omitempty"`
}

// ImagePolicyList is a list of ImagePolicies.
// +kubebuilder:object:root=true
type ImagePolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ImagePolicy `json:"items"`
}

// ImageSourceReference names the GitRepository to write to.
type ImageSourceReference struct {
	// +kubebuilder:validation:Enum=GitRepository
	// +kubebuilder:default=GitRepository
	// +optional
	Kind string `json:"kind,omitempty"`
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// GitCheckout says what to check out before updating.
type GitCheckout struct {
	Ref GitCheckoutRef `json:"ref"`
}

// GitCheckoutRef is the branch to update.
type GitCheckoutRef struct {
	// +kubebuilder:validation:MinLength=1
	Branch string `json:"branch"`
}

// CommitAuthor is who the update commits are by.
type CommitAuthor struct {
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +kubebuilder:validation:MinLength=1
	Email string `json:"email"`
}

// SigningKey names a Secret with the key commits are signed with: an SSH
// private key under "identity", or an armored OpenPGP key under
// "git.asc" (with an optional "passphrase").
type SigningKey struct {
	SecretRef LocalObjectReference `json:"secretRef"`
}

// GitCommitSpec says how update commits look.
type GitCommitSpec struct {
	Author CommitAuthor `json:"author"`
	// MessageTemplate is a Go template over the changes (see the README);
	// the default lists each image changed, from and to.
	// +optional
	MessageTemplate string `json:"messageTemplate,omitempty"`
	// +optional
	SigningKey *SigningKey `json:"signingKey,omitempty"`
}

// GitPushSpec says where to push.
type GitPushSpec struct {
	// Branch to push to; default the checkout branch. It may be a Go
	// template (e.g. "image-updates/{{ .ChangeID }}") for a branch per
	// update, for review.
	// +optional
	Branch string `json:"branch,omitempty"`
}

// ImageGitSpec is the Git side of an automation.
type ImageGitSpec struct {
	// Checkout defaults to the GitRepository's branch.
	// +optional
	Checkout *GitCheckout  `json:"checkout,omitempty"`
	Commit   GitCommitSpec `json:"commit"`
	// +optional
	Push *GitPushSpec `json:"push,omitempty"`
}

// Update strategies.
const UpdateStrategySetters = "Setters"

// UpdateStrategy says which files change and how.
type UpdateStrategy struct {
	// Path relative to the repository root; only files under it change.
	// +kubebuilder:default="."
	// +optional
	Path string `json:"path,omitempty"`
	// Strategy: Setters, markers in YAML comments.
	// +kubebuilder:validation:Enum=Setters
	// +kubebuilder:default=Setters
	// +optional
	Strategy string `json:"strategy,omitempty"`
}

// ImageUpdateAutomationSpec writes chosen tags to a repository.
type ImageUpdateAutomationSpec struct {
	// Interval between runs.
	Interval  metav1.Duration      `json:"interval"`
	SourceRef ImageSourceReference `json:"sourceRef"`
	Git       ImageGitSpec         `json:"git"`
	// +optional
	Update *UpdateStrategy `json:"update,omitempty"`
	// PolicySelector limits which ImagePolicies in the namespace markers
	// may name; default all.
	// +optional
	PolicySelector *metav1.LabelSelector `json:"policySelector,omitempty"`
	// PushSecretRef names a Secret with push credentials (same keys as the
	// GitRepository's secretRef); default the GitRepository's.
	// +optional
	PushSecretRef *LocalObjectReference `json:"pushSecretRef,omitempty"`
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// ImageUpdateAutomationStatus is the observed state.
type ImageUpdateAutomationStatus struct {
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// LastPushCommit is the full SHA of the last commit pushed.
	// +optional
	LastPushCommit string `json:"lastPushCommit,omitempty"`
	// +optional
	LastPushTime *metav1.Time `json:"lastPushTime,omitempty"`
	// +optional
	LastAutomationRunTime *metav1.Time `json:"lastAutomationRunTime,omitempty"`
	// ObservedPolicies are the policies' chosen images at the last run,
	// by "namespace/name".
	// +optional
	ObservedPolicies map[string]ImageRef `json:"observedPolicies,omitempty"`
	// Held lists versions a rollback reverted: the automation does not
	// write them again until a newer one appears or the hold is lifted
	// (`cruise resume image update NAME`).
	// +optional
	Held []HeldImage `json:"held,omitempty"`
	// LastHandledReleaseAt is the last cruise.dev/release-holds value acted
	// on.
	// +optional
	LastHandledReleaseAt string `json:"lastHandledReleaseAt,omitempty"`
	// +optional
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`
}

// HeldImage is a version the automation will not write again.
type HeldImage struct {
	// Policy is "namespace/name".
	Policy string `json:"policy"`
	// Ref is the reverted version.
	Ref ImageRef `json:"ref"`
	// Commit is the branch head at which the automation found the value
	// changed away from what it wrote: the revert, as a rule.
	// +optional
	Commit string      `json:"commit,omitempty"`
	Since  metav1.Time `json:"since"`
}

// ImageUpdateAutomation commits the tags ImagePolicies choose into a
// GitRepository's repository, where setter markers ask for them.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Last run",type=date,JSONPath=`.status.lastAutomationRunTime`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
type ImageUpdateAutomation struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ImageUpdateAutomationSpec `json:"spec"`
	// +optional
	Status ImageUpdateAutomationStatus `json:"status,omitempty"`
}

// ImageUpdateAutomationList is a list of ImageUpdateAutomations.
// +kubebuilder:object:root=true
type ImageUpdateAutomationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ImageUpdateAutomation `json:"items"`
}
