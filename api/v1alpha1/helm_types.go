package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// ChartSource is a chart in a Helm repository (https://) or an OCI
// registry (oci://).
type ChartSource struct {
	// RepoURL is the repository: https://charts.example.com (its
	// index.yaml lists the charts) or oci://registry.example.com/charts.
	// +kubebuilder:validation:Pattern=`^(https?|oci)://`
	RepoURL string `json:"repoURL"`
	// Name of the chart.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Version is exact ("6.14.0") or a Helm semver range (">=6.12.0
	// <7.0.0", "^6", "~6.13"): the highest match wins. Empty means the
	// newest stable version.
	// +optional
	Version string `json:"version,omitempty"`
	// SecretRef names a Secret in the Application's namespace with the
	// repository's credentials: username and password, bearerToken,
	// tls.crt and tls.key (client certificate), ca.crt.
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`
	// PlainHTTP talks to an OCI registry without TLS.
	// +optional
	PlainHTTP bool `json:"plainHTTP,omitempty"`
}

// HelmSettings are a Helm release's name and values.
type HelmSettings struct {
	// ReleaseName is .Release.Name; default the Application's name.
	// +kubebuilder:validation:MaxLength=53
	// +optional
	ReleaseName string `json:"releaseName,omitempty"`
	// ValuesFiles are value files relative to the chart directory, merged
	// in order after the chart's values.yaml (a chart from Git only;
	// never leaving the chart directory's repository).
	// +optional
	ValuesFiles []string `json:"valuesFiles,omitempty"`
	// ValuesFrom are values read from ConfigMaps and Secrets of the
	// Application's namespace, merged in order after ValuesFiles; a
	// change to them syncs the Application.
	// +optional
	ValuesFrom []ValuesReference `json:"valuesFrom,omitempty"`
	// Values are merged last.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	// +optional
	Values *apiextensionsv1.JSON `json:"values,omitempty"`
}

// ValuesReference names a key of a ConfigMap or Secret holding values.
type ValuesReference struct {
	// +kubebuilder:validation:Enum=ConfigMap;Secret
	Kind string `json:"kind"`
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Key holding YAML values; default values.yaml.
	// +optional
	Key string `json:"key,omitempty"`
	// Optional: a missing object or key is no error.
	// +optional
	Optional bool `json:"optional,omitempty"`
}

// ChartStatus names the chart an Application last rendered.
type ChartStatus struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// +optional
	AppVersion string `json:"appVersion,omitempty"`
}
