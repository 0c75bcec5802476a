package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SealedSecretKind is the kind name of SealedSecret.
const SealedSecretKind = "SealedSecret"

// SealedSecret reasons.
const (
	// ReasonUnsealed: every value was decrypted and the Secret is written.
	ReasonUnsealed = "Unsealed"
	// ReasonUnsealFailed: a value could not be decrypted or was sealed for
	// another namespace, name, key or scope; the Secret is left as it was.
	ReasonUnsealFailed = "UnsealFailed"
	// ReasonSecretNotOwned: a Secret of that name exists and belongs to
	// something else; it is left untouched.
	ReasonSecretNotOwned = "SecretNotOwned"
	// ReasonSecretWriteFailed: the values unsealed but the Secret could
	// not be written (RBAC, an invalid Secret, the API server); retried
	// with a backoff.
	ReasonSecretWriteFailed = "SecretWriteFailed"
)

// SealedSecretSpec holds the sealed values and what the Secret looks like.
// Nothing here decides where a value may be unsealed: the scope, namespace,
// name and key are inside each encrypted value and checked on decrypt.
type SealedSecretSpec struct {
	// EncryptedData maps each Secret key to a standard (padded) base64
	// binary age file, sealed on its own.
	EncryptedData map[string]string `json:"encryptedData"`
	// Template is the Secret's type, labels and annotations.
	// +optional
	Template SecretTemplate `json:"template,omitempty"`
	// Recipients are the age recipients every value in encryptedData was
	// sealed to, as `cruise seal` recorded them; `cruise seal --reencrypt`
	// skips a file already sealed to exactly its recipients. Informational
	// only: it grants nothing. Absent means unknown.
	// +optional
	Recipients []string `json:"recipients,omitempty"`
}

// SecretTemplate is what the unsealed Secret carries besides its data.
type SecretTemplate struct {
	// Type of the Secret; default Opaque.
	// +optional
	Type string `json:"type,omitempty"`
	// +optional
	Metadata TemplateMetadata `json:"metadata,omitempty"`
}

// TemplateMetadata are the labels and annotations of the unsealed Secret.
type TemplateMetadata struct {
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// SealedSecretStatus reports the last unseal.
type SealedSecretStatus struct {
	// ObservedGeneration is the generation the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// SealedSecret is a Secret whose values are encrypted to the cluster's age
// key, safe to keep in Git. The controller unseals it into a Secret of the
// same name and namespace, owned by it.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type SealedSecret struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec SealedSecretSpec `json:"spec"`
	// +optional
	Status SealedSecretStatus `json:"status,omitempty"`
}

// SealedSecretList is a list of SealedSecrets.
// +kubebuilder:object:root=true
type SealedSecretList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SealedSecret `json:"items"`
}
