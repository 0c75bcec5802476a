package cli_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// diff exits 0 in sync, 1 on drift (a field changed out of band, an object
// missing, an object to prune) and 2 on errors; Secret values never show.
func TestDiffExitCodes(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	ctx := t.Context()
	diff := func(want int, source string, extra ...string) result {
		t.Helper()
		return mustCruise(t, want, args([]string{"diff", "--source", source}, target(ns, "app"), extra)...)
	}
	mustCruise(t, 0, args([]string{"apply", "--source", "testdata/app-v1"}, target(ns, "app"))...)

	r := diff(0, "testdata/app-v1")
	wantLines(t, r.stdout, "diff against testdata/app-v1: in sync (0 to create, 0 to configure, 3 unchanged, 0 to prune)")

	// kubectl-style edit of a field the manifests set.
	cm, err := env.Client.CoreV1().ConfigMaps(ns).Get(ctx, "app-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["color"] = "red"
	if _, err := env.Client.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	r = diff(1, "testdata/app-v1")
	wantLines(t, r.stdout,
		"=== ConfigMap/"+ns+"/app-config: drifted, would be configured (config.yaml)",
		"-  color: red",
		"+  color: blue",
		"diff against testdata/app-v1: 1 of 3 objects drifted (0 to create, 1 to configure, 2 unchanged, 0 to prune)",
	)

	// The new revision wants what the cluster has drifted from, too.
	r = diff(1, "testdata/app-v2")
	wantLines(t, r.stdout, "-  color: red", "+  color: green")

	// A missing object.
	if err := env.Client.CoreV1().ConfigMaps(ns).Delete(ctx, "extra", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	r = diff(1, "testdata/app-v1")
	wantLines(t, r.stdout, "=== ConfigMap/"+ns+"/extra: missing from the cluster, would be created (extra.yaml)")

	// An object that left the source shows with --prune only.
	mustCruise(t, 0, args([]string{"apply", "--source", "testdata/app-v1"}, target(ns, "app"))...)
	withoutExtra := writeDir(t, map[string]string{
		"config.yaml": readFile(t, "testdata/app-v1/config.yaml"),
		"secret.yaml": readFile(t, "testdata/app-v1/secret.yaml"),
	})
	diff(0, withoutExtra)
	r = diff(1, withoutExtra, "--prune")
	wantContains(t, r.stdout, "=== ConfigMap/"+ns+"/extra: no longer in the source, would be pruned", "1 to prune)")

	// A Secret changed out of band: the diff shows that it changed, never
	// the values, neither in plain text nor in base64.
	secret, err := env.Client.CoreV1().Secrets(ns).Get(ctx, "app-secret", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	secret.Data["password"] = []byte("tampered-value")
	if _, err := env.Client.CoreV1().Secrets(ns).Update(ctx, secret, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	r = diff(1, "testdata/app-v1")
	wantContains(t, r.stdout, "=== Secret/"+ns+"/app-secret: drifted")
	for _, plain := range []string{"super-secret-v1", "tampered-value"} {
		for _, leak := range []string{plain, base64.StdEncoding.EncodeToString([]byte(plain))} {
			if strings.Contains(r.stdout+r.stderr, leak) {
				t.Errorf("diff output shows the Secret value %q", leak)
			}
		}
	}

	// -o json: the list of objects, the Secret masked there too.
	r = diff(1, "testdata/app-v1", "-o", "json")
	var rep struct {
		InSync  bool
		Objects []struct {
			Ref    struct{ Kind, Name string }
			Action string
			Diff   string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, r.stdout)
	}
	actions := map[string]string{}
	for _, o := range rep.Objects {
		actions[o.Ref.Kind+"/"+o.Ref.Name] = o.Action
	}
	if rep.InSync || actions["Secret/app-secret"] != "configured" || actions["ConfigMap/app-config"] != "unchanged" {
		t.Errorf("json report: inSync %v, actions %v", rep.InSync, actions)
	}
	if strings.Contains(r.stdout, base64.StdEncoding.EncodeToString([]byte("tampered-value"))) {
		t.Error("JSON diff shows the Secret value")
	}

	// Errors: exit 2.
	r = diff(2, "testdata/bad/malformed-yaml")
	wantContains(t, r.stderr, "Error: render: config.yaml:")
	diff(2, "testdata/app-v1", "--name", "Not_A_Label")
}
