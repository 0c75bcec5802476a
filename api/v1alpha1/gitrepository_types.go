package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GitRepositoryKind is the kind name of GitRepository.
const GitRepositoryKind = "GitRepository"

// GitRef selects what to check out. At most one field may be set; none
// means the remote's default branch.
// +kubebuilder:validation:XValidation:rule="[has(self.branch), has(self.tag), has(self.semver), has(self.commit)].filter(x, x).size() <= 1",message="set at most one of branch, tag, semver and commit"
type GitRef struct {
	// Branch to follow.
	// +optional
	Branch string `json:"branch,omitempty"`
	// Tag to check out.
	// +optional
	Tag string `json:"tag,omitempty"`
	// SemVer range over the tags, e.g. ">=1.2.0 <2.0.0"; the highest
	// matching tag wins.
	// +optional
	SemVer string `json:"semver,omitempty"`
	// Commit SHA (40 hex digits) to check out.
	// +kubebuilder:validation:Pattern="^[0-9a-f]{40}$"
	// +optional
	Commit string `json:"commit,omitempty"`
}

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
}

// AccessFrom lists the namespaces whose Applications may use a
// GitRepository; by default only its own namespace may.
type AccessFrom struct {
	// Namespaces allowed to refer to this GitRepository; "*" allows all.
	Namespaces []string `json:"namespaces"`
}

// GitRepositorySpec says where to fetch from.
type GitRepositorySpec struct {
	// URL of the repository: https://, ssh://, or git@host:path.
	// +kubebuilder:validation:Pattern="^(https?://|ssh://|git@|file://).+"
	URL string `json:"url"`
	// Ref selects the branch, tag, semver range or commit.
	// +optional
	Ref *GitRef `json:"ref,omitempty"`
	// Interval between fetches.
	// +kubebuilder:default="1m"
	// +optional
	Interval metav1.Duration `json:"interval,omitempty"`
	// Timeout of one fetch.
	// +kubebuilder:default="60s"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`
	// SecretRef names a Secret with credentials: "username" and
	// "password" (or "bearerToken") for HTTPS; "identity" (private key),
	// optional "passphrase" and "known_hosts" for SSH.
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`

	// PushSecretRef names a Secret in the same namespace with the
	// credentials `cruise server` pushes rollback commits with (same keys
	// as secretRef). Default: secretRef. It is read as the user who asks
	// for the rollback, so only people who may read it can roll back.
	// ImageUpdateAutomations of the same namespace push with it too
	// (unless they name their own); those of other namespaces never do.
	// +optional
	PushSecretRef *LocalObjectReference `json:"pushSecretRef,omitempty"`
	// Ignore holds extra gitignore-style patterns, relative to the
	// repository root, of files that Applications rendering plain manifest
	// directories skip (kustomizations name their files explicitly).
	// +optional
	Ignore string `json:"ignore,omitempty"`
	// AccessFrom allows Applications in other namespaces to use this
	// repository.
	// +optional
	AccessFrom *AccessFrom `json:"accessFrom,omitempty"`
	// Suspend stops fetching.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// Artifact describes the fetched revision.
type Artifact struct {
	// Revision is "<ref>@sha1:<commit>".
	Revision string `json:"revision"`
	// Commit is the full SHA.
	Commit string `json:"commit"`
	// Message is the commit subject.
	// +optional
	Message string `json:"message,omitempty"`
	// Author of the commit.
	// +optional
	Author string `json:"author,omitempty"`
	// Time of the commit.
	// +optional
	Time *metav1.Time `json:"time,omitempty"`
}

// GitRepositoryStatus is the observed state.
type GitRepositoryStatus struct {
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Artifact is the last fetched revision.
	// +optional
	Artifact *Artifact `json:"artifact,omitempty"`
	// LastFetchTime is when the remote was last asked for news.
	// +optional
	LastFetchTime *metav1.Time `json:"lastFetchTime,omitempty"`
	// LastHandledReconcileAt is the last cruise.dev/reconcile-at value acted on.
	// +optional
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`
}

// GitRepository is a Git repository cruise fetches on an interval (and on
// push webhooks). One fetch serves every Application that refers to it.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=gitrepo;gitrepos
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Revision",type=string,JSONPath=`.status.artifact.revision`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
type GitRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec GitRepositorySpec `json:"spec"`
	// +optional
	Status GitRepositoryStatus `json:"status,omitempty"`
}

// GitRepositoryList is a list of GitRepositories.
// +kubebuilder:object:root=true
type GitRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GitRepository `json:"items"`
}
