package render

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cruisegitops/cruise/internal/seal"
	"github.com/cruisegitops/cruise/internal/seal/sealtest"
)

const (
	sopsSecret = `apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: s3cret-db-password
  port: "5432"
`
	sopsConfigMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: hidden-settings
data:
  endpoint: https://internal.example/s3cret-path
`
	plainDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx
          env:
            - name: DB_PASSWORD
              value: placeholder
`
)

// sopsKeys makes an identity and the sops CLI encryptions a test needs.
type sopsKeys struct {
	key seal.Key
}

func newSOPSKeys(t *testing.T) sopsKeys {
	t.Helper()
	k, err := seal.GenerateKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return sopsKeys{key: k}
}

func (k sopsKeys) decryption() *Decryption {
	return &Decryption{Identities: []age.Identity{k.key.Identity}}
}

// regex encrypts like Flux's docs say; whole like sops's default.
func (k sopsKeys) regex(t *testing.T, plain, ext string) string {
	return string(sealtest.Encrypt(t, []byte(plain), ext, []string{k.key.Recipient().String()}, "--encrypted-regex", "^(data|stringData)$"))
}

func (k sopsKeys) whole(t *testing.T, plain, ext string) string {
	return string(sealtest.Encrypt(t, []byte(plain), ext, []string{k.key.Recipient().String()}))
}

func renderTree(t *testing.T, files map[string]string, path string, d *Decryption) (Result, error) {
	t.Helper()
	root := t.TempDir()
	writeTree(t, root, root, files)
	return Render(context.Background(), Options{Root: root, Path: path, Decryption: d})
}

func byName(t *testing.T, res Result, kind, name string) Object {
	t.Helper()
	for _, o := range res.Objects {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s among %d objects", kind, name, len(res.Objects))
	return Object{}
}

func nested(t *testing.T, o Object, fields ...string) any {
	t.Helper()
	v, ok, err := unstructured.NestedFieldNoCopy(o.Object, fields...)
	if err != nil || !ok {
		t.Fatalf("%s %s has no %s", o.GetKind(), o.GetName(), strings.Join(fields, "."))
	}
	return v
}

// Plain mode: SOPS files in both forms decrypt beside ordinary manifests,
// and only their objects are marked sensitive.
func TestRenderDecryptsSOPSPlain(t *testing.T) {
	k := newSOPSKeys(t)
	files := map[string]string{
		"app/secret.yaml":    k.regex(t, sopsSecret, ".yaml"),
		"app/settings.json":  k.whole(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"json-settings"},"data":{"k":"s3cret-json"}}`, ".json"),
		"app/hidden.yaml":    k.whole(t, sopsConfigMap, ".yaml"),
		"app/deploy.yaml":    plainDeployment,
		"app/multi.sops.yml": k.regex(t, sopsSecret+"---\n"+strings.ReplaceAll(sopsConfigMap, "hidden-settings", "second"), ".yaml"),
	}
	files["app/multi.sops.yml"] = strings.Replace(files["app/multi.sops.yml"], "name: db", "name: db2", 1)
	// The edit above is of an unencrypted value: the MAC must catch it.
	if _, err := renderTree(t, files, "app", k.decryption()); !errors.Is(err, ErrDecryption) || !strings.Contains(err.Error(), "app/multi.sops.yml") {
		t.Fatalf("a file edited without the key rendered: %v", err)
	}
	files["app/multi.sops.yml"] = k.regex(t, strings.ReplaceAll(sopsSecret, "name: db", "name: db2")+"---\n"+strings.ReplaceAll(sopsConfigMap, "hidden-settings", "second"), ".yaml")

	res, err := renderTree(t, files, "app", k.decryption())
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if got := nested(t, byName(t, res, "Secret", "db"), "stringData", "password"); got != "s3cret-db-password" {
		t.Errorf("password = %v", got)
	}
	if got := nested(t, byName(t, res, "ConfigMap", "hidden-settings"), "data", "endpoint"); got != "https://internal.example/s3cret-path" {
		t.Errorf("endpoint = %v", got)
	}
	if got := nested(t, byName(t, res, "ConfigMap", "json-settings"), "data", "k"); got != "s3cret-json" {
		t.Errorf("json value = %v", got)
	}
	byName(t, res, "Secret", "db2")
	byName(t, res, "ConfigMap", "second")
	for _, o := range res.Objects {
		if want := o.GetName() != "web"; o.Sensitive != want {
			t.Errorf("%s %s: Sensitive = %v, want %v", o.GetKind(), o.GetName(), o.Sensitive, want)
		}
	}
	if !slices.Contains(res.Files, "app/secret.yaml") {
		t.Errorf("Files %q lacks the encrypted file", res.Files)
	}
}

// Kustomize mode: resources, patches and generator inputs decrypt as
// kustomize reads them; objects renamed by kustomize, and objects a
// decrypted value was copied into, are marked sensitive.
func TestRenderDecryptsSOPSKustomize(t *testing.T) {
	k := newSOPSKeys(t)
	files := map[string]string{
		"base/kustomization.yaml": "resources: [secret.yaml, deploy.yaml, hidden.yaml]\n",
		"base/secret.yaml":        k.regex(t, sopsSecret, ".yaml"),
		"base/hidden.yaml":        k.whole(t, sopsConfigMap, ".yaml"),
		"base/deploy.yaml":        plainDeployment,
		"prod/kustomization.yaml": `namePrefix: prod-
resources: [../base, plain.yaml]
patches:
  - path: patch.yaml
configMapGenerator:
  - name: generated
    files: [creds.json]
replacements:
  - source: {kind: Secret, name: db, fieldPath: stringData.password}
    targets:
      - select: {kind: Deployment, name: web}
        fieldPaths: [spec.template.spec.containers.0.env.0.value]
`,
		"prod/plain.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: open\ndata:\n  a: b\n",
		"prod/patch.yaml": k.regex(t, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  extra: patched-s3cret\n", ".yaml"),
		"prod/creds.json": k.whole(t, `{"user":"svc","token":"generated-s3cret-token"}`, ".json"),
	}
	res, err := renderTree(t, files, "prod", k.decryption())
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	secret := byName(t, res, "Secret", "prod-db")
	if got := nested(t, secret, "stringData", "extra"); got != "patched-s3cret" {
		t.Errorf("patched value = %v", got)
	}
	deploy := byName(t, res, "Deployment", "prod-web")
	env := nested(t, deploy, "spec", "template", "spec", "containers").([]any)[0].(map[string]any)["env"].([]any)[0].(map[string]any)
	if env["value"] != "s3cret-db-password" {
		t.Errorf("replacement gave %v", env["value"])
	}
	var generated Object
	for _, o := range res.Objects {
		if strings.HasPrefix(o.GetName(), "prod-generated-") {
			generated = o
		}
	}
	if generated.Unstructured == nil || !strings.Contains(nested(t, generated, "data", "creds.json").(string), "generated-s3cret-token") {
		t.Fatalf("the generator did not read the decrypted file: %v", generated)
	}
	want := map[string]bool{"prod-db": true, "prod-hidden-settings": true, "prod-web": true, generated.GetName(): true, "prod-open": false}
	for _, o := range res.Objects {
		if o.Sensitive != want[o.GetName()] {
			t.Errorf("%s %s: Sensitive = %v, want %v", o.GetKind(), o.GetName(), o.Sensitive, want[o.GetName()])
		}
	}
}

// A SOPS file never renders as ciphertext: without decryption, with the
// wrong key, or tampered with, the render fails naming the file, and the
// message holds no decrypted value.
func TestRenderRefusesSOPS(t *testing.T) {
	k, stranger := newSOPSKeys(t), newSOPSKeys(t)
	enc := k.regex(t, sopsSecret, ".yaml")
	tampered := strings.Replace(enc, "name: db", "name: other", 1)
	tests := []struct {
		name    string
		files   map[string]string
		path    string
		d       *Decryption
		wantErr string
	}{
		{"plain, no decryption", map[string]string{"app/secret.yaml": enc}, "app", nil,
			"render: app/secret.yaml: encrypted with sops, and no decryption keys are configured"},
		{"kustomize, no decryption", map[string]string{"app/kustomization.yaml": "resources: [secret.yaml]\n", "app/secret.yaml": enc}, "app", nil,
			"render: app/secret.yaml: encrypted with sops, and no decryption keys are configured"},
		{"plain, wrong key", map[string]string{"app/secret.yaml": enc}, "app", stranger.decryption(),
			"render: app/secret.yaml: sops: SOPS file is encrypted to none of the age identities given"},
		{"kustomize, wrong key", map[string]string{"app/kustomization.yaml": "resources: [secret.yaml]\n", "app/secret.yaml": enc}, "app", stranger.decryption(),
			"render: app/secret.yaml: sops: SOPS file is encrypted to none of the age identities given"},
		{"plain, tampered", map[string]string{"app/secret.yaml": tampered}, "app", k.decryption(),
			"render: app/secret.yaml: sops: SOPS file fails authentication"},
		{"kustomize, tampered", map[string]string{"app/kustomization.yaml": "resources: [secret.yaml]\n", "app/secret.yaml": tampered}, "app", k.decryption(),
			"render: app/secret.yaml: sops: SOPS file fails authentication"},
		{"a single file, no decryption", map[string]string{"secret.yaml": enc}, "secret.yaml", nil,
			"render: secret.yaml: encrypted with sops"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := renderTree(t, tt.files, tt.path, tt.d)
			checkErr(t, err, ErrDecryption, tt.wantErr)
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error reveals a value: %v", err)
			}
		})
	}
}

// A file that only looks like SOPS (a sops key but no real metadata) is
// refused too, rather than applied.
func TestRenderRefusesFakeSOPS(t *testing.T) {
	fake := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\nsops:\n  mac: none\n  lastmodified: never\n"
	_, err := renderTree(t, map[string]string{"app/x.yaml": fake}, "app", newSOPSKeys(t).decryption())
	checkErr(t, err, ErrDecryption, "render: app/x.yaml: sops: not a valid SOPS file")
}

// Files that are not manifests are passed through untouched even if they
// look encrypted: a README quoting a SOPS file, a .env generator input.
func TestRenderLeavesOtherFiles(t *testing.T) {
	k := newSOPSKeys(t)
	enc := k.regex(t, sopsSecret, ".yaml")
	res, err := renderTree(t, map[string]string{
		"app/kustomization.yaml": "resources: [cm.yaml]\nconfigMapGenerator:\n  - name: notes\n    files: [notes.txt]\n",
		"app/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
		"app/notes.txt":          enc,
	}, "app", nil)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if len(res.Objects) != 2 {
		t.Fatalf("objects: %v", res.Objects)
	}
}
