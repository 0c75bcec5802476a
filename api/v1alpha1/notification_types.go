package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Kind names of the notification kinds.
const (
	ProviderKind = "Provider"
	AlertKind    = "Alert"
)

// Alert reasons (Ready False). A Provider that cannot be used has Ready
// False with ReasonInvalidProvider too.
const (
	// ReasonDeliveryFailed: the last delivery to the Provider failed (and
	// was retried when retrying could help); lastDelivery has the error.
	ReasonDeliveryFailed = "DeliveryFailed"
	// ReasonProviderNotFound: spec.providerRef names no Provider of the
	// Alert's namespace.
	ReasonProviderNotFound = "ProviderNotFound"
	// ReasonInvalidProvider: the Provider exists but cannot deliver (an
	// unsupported type, a malformed address, a missing Secret or key).
	ReasonInvalidProvider = "InvalidProvider"
	// ReasonTemplateError: a template (or an inclusion or exclusion
	// pattern) of the Alert does not parse, or a template failed to render
	// an event. Messages fall back to the defaults; an Alert whose patterns
	// do not parse delivers nothing, since it cannot tell what to leave out.
	ReasonTemplateError = "TemplateError"
)

// ProviderSpec says where notifications go.
type ProviderSpec struct {
	// Type of the receiver.
	// +kubebuilder:validation:Enum=smtp;webhook;slack;msteams;discord;googlechat;mattermost;github;gitlab;gitea
	Type string `json:"type"`
	// Address: host:port for smtp; the URL for webhook and chat types; the
	// API base URL for github, gitlab and gitea. The Secret's "address"
	// key, when present, overrides it (chat webhook URLs carry a token).
	// +optional
	Address string `json:"address,omitempty"`
	// SMTP settings, type smtp only.
	// +optional
	SMTP *SMTPSettings `json:"smtp,omitempty"`
	// Channel for chat types, optional.
	// +optional
	Channel string `json:"channel,omitempty"`
	// SecretRef names a Secret in the Provider's namespace. Keys:
	// username and password (SMTP AUTH, never sent without TLS); ca.crt
	// (PEM CA for SMTP and HTTPS); hmacKey (webhook signature); token;
	// address.
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`
	// Timeout bounds one delivery attempt; default 15s.
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`
	// Suspend stops deliveries through this Provider; events meanwhile are
	// not kept.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// SMTPSettings are the envelope and transport of e-mail.
type SMTPSettings struct {
	// From is the sender address.
	// +kubebuilder:validation:MinLength=1
	From string `json:"from"`
	// To are the recipients.
	// +kubebuilder:validation:MinItems=1
	To []string `json:"to"`
	// TLS: starttls (default; refuse to send if the server does not offer
	// it), tls (implicit TLS, port 465) or none.
	// +kubebuilder:validation:Enum=starttls;tls;none
	// +optional
	TLS string `json:"tls,omitempty"`
}

// ProviderStatus says whether the Provider can deliver.
type ProviderStatus struct {
	// ObservedGeneration is the generation the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Provider is a receiver of notifications: a mailbox, a webhook, a chat
// channel or a Git host's commit statuses. Alerts of its namespace route
// events to it.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Provider struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ProviderSpec `json:"spec"`
	// +optional
	Status ProviderStatus `json:"status,omitempty"`
}

// ProviderList is a list of Providers.
// +kubebuilder:object:root=true
type ProviderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Provider `json:"items"`
}

// AlertSpec says which events go to a Provider.
type AlertSpec struct {
	// ProviderRef names a Provider of the Alert's namespace.
	ProviderRef LocalObjectReference `json:"providerRef"`
	// Severity: info (default) sends every event; error sends Failed and
	// HealthDegraded, and the Recovered that ends them.
	// +kubebuilder:validation:Enum=info;error
	// +optional
	Severity string `json:"severity,omitempty"`
	// EventSources select the objects, in the Alert's own namespace, whose
	// events are sent; an event is sent if any source selects its object.
	// +kubebuilder:validation:MinItems=1
	EventSources []EventSource `json:"eventSources"`
	// InclusionList: when not empty, only events whose message matches one
	// of these regular expressions (RE2) are sent.
	// +optional
	InclusionList []string `json:"inclusionList,omitempty"`
	// ExclusionList: events whose message matches one of these regular
	// expressions are not sent.
	// +optional
	ExclusionList []string `json:"exclusionList,omitempty"`
	// Template replaces the default subject and body (Go text/template
	// over the event). A render error falls back to the default and shows
	// in the status.
	// +optional
	Template *AlertTemplate `json:"template,omitempty"`
	// Suspend stops sending; events meanwhile are not kept.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// EventSource selects objects by kind, name and labels.
type EventSource struct {
	// Kind of the objects.
	// +kubebuilder:validation:Enum=Application;GitRepository;ImageUpdateAutomation
	Kind string `json:"kind"`
	// Name is a glob (path.Match: *, ?, [a-z]); empty or "*" selects all.
	// +optional
	Name string `json:"name,omitempty"`
	// MatchLabels: the object must carry every one of these labels.
	// +optional
	MatchLabels map[string]string `json:"matchLabels,omitempty"`
}

// AlertTemplate holds Go templates for a message's subject and body;
// empty ones keep the default.
type AlertTemplate struct {
	// +optional
	Subject string `json:"subject,omitempty"`
	// +optional
	Body string `json:"body,omitempty"`
}

// Delivery is the outcome of the most recent delivery of an Alert.
type Delivery struct {
	// Time of the last attempt.
	Time metav1.Time `json:"time"`
	// Type of the event delivered: Synced, Failed, ..., or Digest.
	Type string `json:"type"`
	// Object the event is about, as Kind/namespace/name.
	Object string `json:"object"`
	// Attempts made so far.
	Attempts int `json:"attempts"`
	// Error of the last attempt; empty when it was delivered.
	// +optional
	Error string `json:"error"`
}

// AlertStatus reports whether the Alert delivers, and its last delivery.
type AlertStatus struct {
	// ObservedGeneration is the generation the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// LastDelivery is the most recent delivery (or attempt).
	// +optional
	LastDelivery *Delivery `json:"lastDelivery,omitempty"`
}

// Alert routes events of its namespace's objects to a Provider.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Provider",type=string,JSONPath=`.spec.providerRef.name`
// +kubebuilder:printcolumn:name="Severity",type=string,JSONPath=`.spec.severity`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Last",type=string,JSONPath=`.status.lastDelivery.type`
// +kubebuilder:printcolumn:name="Delivered",type=date,JSONPath=`.status.lastDelivery.time`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Alert struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec AlertSpec `json:"spec"`
	// +optional
	Status AlertStatus `json:"status,omitempty"`
}

// AlertList is a list of Alerts.
// +kubebuilder:object:root=true
type AlertList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Alert `json:"items"`
}
