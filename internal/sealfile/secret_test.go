package sealfile_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cruisegitops/cruise/internal/sealfile"
)

func TestParseSecret(t *testing.T) {
	tests := []struct {
		file string
		want sealfile.Secret
	}{
		{"ok-kubectl.yaml", sealfile.Secret{Name: "db", Namespace: "prod",
			Data: map[string][]byte{"password": []byte("hunter2"), "user": []byte("admin")}}},
		{"ok-json.json", sealfile.Secret{Name: "db", Namespace: "prod", Type: "kubernetes.io/basic-auth",
			Labels: map[string]string{"app": "db"},
			Data:   map[string][]byte{"password": []byte("hunter2"), "user": []byte("admin")}}},
		// stringData wins over data, as in the API server; the
		// last-applied annotation (it holds the values) is dropped.
		{"ok-stringdata-wins.yaml", sealfile.Secret{Name: "db", Namespace: "prod",
			Annotations: map[string]string{"note": "kept"},
			Data:        map[string][]byte{"password": []byte("hunter2"), "user": []byte("admin")},
			Dropped:     []string{"kubectl.kubernetes.io/last-applied-configuration"}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := sealfile.ParseSecret(readTestdata(t, "secret", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// Bad input: one error naming the culprit, never a value.
func TestParseSecretBadInput(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"list.yaml", "the input is a List: want exactly one v1 Secret"},
		{"secretlist.yaml", "the input is a SecretList: want exactly one v1 Secret"},
		{"two-docs.yaml", "the input holds 2 documents: want exactly one v1 Secret"},
		{"configmap.yaml", `the input is kind "ConfigMap": want a v1 Secret`},
		{"v2.yaml", `the input is a Secret of apiVersion "v2": want v1`},
		{"no-name.yaml", "the Secret has no metadata.name"},
		{"no-namespace.yaml", "Secret a has no metadata.namespace"},
		{"bad-base64.yaml", `Secret b/a: data key "token" is not standard base64`},
		{"unknown-field.yaml", `unknown field "stringdata"`},
		{"no-data.yaml", "Secret b/a has no data or stringData: nothing to seal"},
		{"bad-key.yaml", `Secret b/a: invalid key "bad/key"`},
		{"bad-name.yaml", "Secret b/Not_DNS: invalid name"},
		{"duplicate-key.yaml", `key "k" already set`},
		{"not-yaml.yaml", "not YAML or JSON: yaml: line"},
		{"empty.yaml", "the input holds no document"},
		{"sequence.yaml", "the input is not a YAML or JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := sealfile.ParseSecret(readTestdata(t, "secret", tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "not base64!") || strings.Contains(err.Error(), ": v") {
				t.Errorf("the error shows a value: %v", err)
			}
		})
	}
}

func TestReadSecretTooLarge(t *testing.T) {
	big := strings.NewReader(strings.Repeat("#", sealfile.MaxManifestSize+1))
	if _, err := sealfile.ReadSecret(big); err == nil || !strings.Contains(err.Error(), "input over") {
		t.Fatalf("error = %v, want input over the limit", err)
	}
}

func readTestdata(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"testdata"}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
