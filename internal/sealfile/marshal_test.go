package sealfile_test

import (
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/sealfile"
)

// Marshal's layout is fixed and sorted, and quotes what a YAML 1.1
// reader (kubectl's) would take for a boolean or a number.
func TestMarshal(t *testing.T) {
	ss := &v1alpha1.SealedSecret{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: v1alpha1.SealedSecretKind},
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "prod"},
		Spec: v1alpha1.SealedSecretSpec{
			EncryptedData: map[string]string{"b_key": "BBBB", "a.key": "AAAA", "yes": "YYYY", "0777": "ZZZZ"},
			Template: v1alpha1.SecretTemplate{Type: "kubernetes.io/basic-auth", Metadata: v1alpha1.TemplateMetadata{
				Labels:      map[string]string{"app": "db", "enabled": "true", "legacy": "on"},
				Annotations: map[string]string{"note": "with: colon"}}},
			Recipients: []string{"age1one", "age1two"},
		},
	}
	got, err := sealfile.Marshal(ss)
	if err != nil {
		t.Fatal(err)
	}
	if want := string(readTestdata(t, "marshal", "want.yaml")); string(got) != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	var back v1alpha1.SealedSecret
	if err := sigsyaml.UnmarshalStrict(got, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, ss) {
		t.Errorf("read back as kubectl does:\n%+v\nwant\n%+v", back, *ss)
	}
}
