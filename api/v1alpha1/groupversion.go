package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the API group and version of cruise's resources.
var GroupVersion = schema.GroupVersion{Group: "cruise.dev", Version: "v1alpha1"}

// AddToScheme registers the types with a runtime.Scheme.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &GitRepository{}, &GitRepositoryList{}, &Application{}, &ApplicationList{},
		&SealedSecret{}, &SealedSecretList{},
		&ImageRepository{}, &ImageRepositoryList{}, &ImagePolicy{}, &ImagePolicyList{},
		&ImageUpdateAutomation{}, &ImageUpdateAutomationList{},
		&Provider{}, &ProviderList{}, &Alert{}, &AlertList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
