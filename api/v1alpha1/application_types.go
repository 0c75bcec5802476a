package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ApplicationKind is the kind name of Application.
const ApplicationKind = "Application"

// SourceReference points an Application at its GitRepository.
type SourceReference struct {
	// Kind of the source; only GitRepository for now.
	// +kubebuilder:validation:Enum=GitRepository
	// +kubebuilder:default=GitRepository
	// +optional
	Kind string `json:"kind,omitempty"`
	// Name of the source.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Namespace of the source; default the Application's. Another
	// namespace works only where the source's accessFrom allows it.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// DependencyReference names an Application that must be Ready first.
type DependencyReference struct {
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Namespace; default the Application's own.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// ApplicationSpec says what to apply and how.
// +kubebuilder:validation:XValidation:rule="has(self.sourceRef) != has(self.chart)",message="exactly one of sourceRef (with path) and chart must be set"
type ApplicationSpec struct {
	// SourceRef is the GitRepository to deploy from. Exactly one of
	// sourceRef and chart.
	// +optional
	SourceRef SourceReference `json:"sourceRef,omitzero"`
	// Path inside the repository: a kustomization, a Helm chart (the
	// directory holds Chart.yaml) or a directory of manifests.
	// +kubebuilder:default="."
	// +optional
	Path string `json:"path,omitempty"`
	// Interval of full resyncs. Drift of applied objects is watched and
	// corrected between them.
	// +kubebuilder:default="10m"
	// +optional
	Interval metav1.Duration `json:"interval,omitempty"`
	// RetryInterval after a failure; default Interval/5, at least 10s, with
	// exponential backoff up to Interval.
	// +optional
	RetryInterval *metav1.Duration `json:"retryInterval,omitempty"`
	// Timeout of one sync, health wait included.
	// +kubebuilder:default="5m"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`
	// Prune deletes objects removed from Git.
	// +kubebuilder:default=true
	// +optional
	Prune bool `json:"prune"`
	// SelfHeal reverts changes made in the cluster that Git does not
	// describe, within seconds. Off, drift is only reported.
	// +kubebuilder:default=true
	// +optional
	SelfHeal *bool `json:"selfHeal,omitempty"`
	// Wait for the applied objects to become healthy before Ready.
	// +kubebuilder:default=true
	// +optional
	Wait *bool `json:"wait,omitempty"`
	// Force recreates objects whose immutable fields changed.
	// +optional
	Force bool `json:"force,omitempty"`
	// TargetNamespace puts every namespaced object into this namespace.
	// +optional
	TargetNamespace string `json:"targetNamespace,omitempty"`
	// ServiceAccountName in the Application's namespace to impersonate for
	// every change, so a tenant can do only what its RBAC allows.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
	// DependsOn lists Applications that must be Ready first.
	// +optional
	DependsOn []DependencyReference `json:"dependsOn,omitempty"`
	// Suspend stops every change to the cluster.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
	// Decryption decrypts SOPS-encrypted manifests at render time.
	// +optional
	Decryption *Decryption `json:"decryption,omitempty"`
	// Chart deploys a chart from a Helm repository or an OCI registry
	// instead of a GitRepository.
	// +optional
	Chart *ChartSource `json:"chart,omitempty"`
	// Helm holds the release settings of a chart, from Chart or from a
	// directory of the GitRepository that holds Chart.yaml.
	// +optional
	Helm *HelmSettings `json:"helm,omitempty"`
}

// DecryptionProviderSOPS decrypts files the sops CLI encrypted to age
// recipients.
const DecryptionProviderSOPS = "sops"

// Decryption says how to decrypt encrypted manifests before they are
// applied.
type Decryption struct {
	// Provider of the encryption format; only "sops" (age recipients).
	// +kubebuilder:validation:Enum=sops
	Provider string `json:"provider"`
	// SecretRef names a Secret in the Application's namespace; each of its
	// keys ending in ".agekey" holds age identities (AGE-SECRET-KEY-1…
	// lines, as age-keygen writes them).
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`
}

// ObjectRef identifies an applied object.
type ObjectRef struct {
	// +optional
	Group   string `json:"group,omitempty"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// ResourceStatus is one managed object's sync and health state.
type ResourceStatus struct {
	ObjectRef `json:",inline"`
	// Sync is Synced or OutOfSync.
	// +optional
	Sync string `json:"sync,omitempty"`
	// Health is the kstatus: Current, InProgress, Failed, NotFound, Unknown.
	// +optional
	Health string `json:"health,omitempty"`
	// +optional
	Message string `json:"message,omitempty"`
}

// SyncResult records one sync.
type SyncResult struct {
	Revision string `json:"revision"`
	// Message is the commit subject.
	// +optional
	Message string `json:"message,omitempty"`
	// +optional
	Author string      `json:"author,omitempty"`
	Time   metav1.Time `json:"time"`
	// Digest is the SHA-256 of what the sync rendered from the source
	// ("sha256:<hex>"). Two entries with the same digest deployed the same
	// manifests, so rolling back from one to the other changes nothing.
	// +optional
	Digest string `json:"digest,omitempty"`
	// Result is Succeeded or Failed.
	Result string `json:"result"`
	// Error, when Failed.
	// +optional
	Error string `json:"error,omitempty"`
}

// MaxHistory is how many sync results an Application keeps.
const MaxHistory = 10

// ApplicationStatus is the observed state.
type ApplicationStatus struct {
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// LastAppliedRevision is the last revision applied successfully.
	// +optional
	LastAppliedRevision string `json:"lastAppliedRevision,omitempty"`
	// Chart is the chart of the last render, for an Application that
	// deploys a Helm chart.
	// +optional
	Chart *ChartStatus `json:"chart,omitempty"`
	// LastAttemptedRevision is the last revision a sync was tried with.
	// +optional
	LastAttemptedRevision string `json:"lastAttemptedRevision,omitempty"`
	// Inventory lists every object applied (and not yet pruned).
	// +optional
	Inventory []ObjectRef `json:"inventory,omitempty"`
	// Resources holds each managed object's sync and health.
	// +optional
	Resources []ResourceStatus `json:"resources,omitempty"`
	// History holds the last syncs, newest first.
	// +optional
	History []SyncResult `json:"history,omitempty"`
	// RenderedFiles are the repository files the last render read; a new
	// revision that changes none of them is recorded without a re-apply.
	// +optional
	RenderedFiles []string `json:"renderedFiles,omitempty"`
	// LastHandledReconcileAt is the last cruise.dev/reconcile-at value acted on.
	// +optional
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`
	// LastSyncTime is when the last full sync succeeded: an apply of a new
	// revision, or a resync or drift check that found the cluster as Git
	// says. History records only the syncs that changed something.
	// +optional
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`
}

// Application keeps one path of a Git repository applied to the cluster:
// new commits are deployed, drift is reverted, removed objects are pruned.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=app;apps
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Revision",type=string,JSONPath=`.status.lastAppliedRevision`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
type Application struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ApplicationSpec `json:"spec"`
	// +optional
	Status ApplicationStatus `json:"status,omitempty"`
}

// ApplicationList is a list of Applications.
// +kubebuilder:object:root=true
type ApplicationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Application `json:"items"`
}

// SelfHealEnabled reports whether drift is reverted (the default).
func (a *Application) SelfHealEnabled() bool { return a.Spec.SelfHeal == nil || *a.Spec.SelfHeal }

// WaitEnabled reports whether Ready waits for health (the default).
func (a *Application) WaitEnabled() bool { return a.Spec.Wait == nil || *a.Spec.Wait }

// SourceNamespace returns the namespace of the referenced source.
func (a *Application) SourceNamespace() string {
	if a.Spec.SourceRef.Namespace != "" {
		return a.Spec.SourceRef.Namespace
	}
	return a.Namespace
}
