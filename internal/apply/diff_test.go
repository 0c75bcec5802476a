package apply_test

import (
	"strings"
	"testing"

	"github.com/cruisegitops/cruise/internal/apply"
)

func TestDiff(t *testing.T) {
	ctx := t.Context()
	e, ns, opts := setup(t)
	const set = `
apiVersion: v1
kind: Secret
metadata:
  name: creds
stringData:
  password: hunter2-in-git
---
` + webDeployment
	dopts := apply.DiffOptions{Owner: opts.Owner, Inventory: opts.Inventory, Namespaces: opts.Namespaces, Prune: true}

	diffs, err := e.Diff(ctx, objects(t, "set.yaml", set), dopts)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		if d.Action != apply.Created || !strings.Contains(d.Diff, "+kind: "+d.Ref.Kind) {
			t.Errorf("%s before apply: %s\n%s", d.Ref, d.Action, d.Diff)
		}
	}
	if _, err := e.Apply(ctx, objects(t, "set.yaml", set), opts); err != nil {
		t.Fatal(err)
	}

	// In sync: defaulted fields (strategy, terminationMessagePath, ...) are
	// not drift.
	diffs, err = e.Diff(ctx, objects(t, "set.yaml", set), dopts)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		if d.Drifted() {
			t.Errorf("%s drifted right after apply:\n%s", d.Ref, d.Diff)
		}
	}

	// Change the Secret out of band, and drop the Deployment from Git.
	changed := strings.Replace(set, "hunter2-in-git", "new-secret-value", 1)
	onlySecret := changed[:strings.Index(changed, "---")]
	diffs, err = e.Diff(ctx, objects(t, "set.yaml", onlySecret), dopts)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]apply.ObjectDiff{}
	for _, d := range diffs {
		got[d.Ref.Kind] = d
	}
	if got["Secret"].Action != apply.Configured || got["Deployment"].Action != apply.Pruned {
		t.Fatalf("actions = %v, want Secret configured and Deployment pruned", diffs)
	}
	secretDiff := got["Secret"].Diff
	for _, leak := range []string{"hunter2", "new-secret-value", "aHVudGVyMi", "bmV3LXNlY3JldC"} {
		if strings.Contains(secretDiff, leak) {
			t.Errorf("Secret diff leaks %q:\n%s", leak, secretDiff)
		}
	}
	if !strings.Contains(secretDiff, "-  password: '*** (before)'") || !strings.Contains(secretDiff, "+  password: '*** (after)'") {
		t.Errorf("Secret diff does not show the changed key masked:\n%s", secretDiff)
	}
	if strings.Contains(secretDiff, "managedFields") || strings.Contains(secretDiff, "resourceVersion") {
		t.Errorf("diff shows server bookkeeping:\n%s", secretDiff)
	}
	if get(t, secretGVK, ns, "creds") == nil || get(t, deploymentGVK, ns, "web") == nil {
		t.Fatal("Diff changed the cluster")
	}
}
