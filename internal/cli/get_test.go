package cli_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/cruisegitops/cruise/api/v1alpha1"
)

// fields splits a table line into its cells (separated by 3+ spaces).
func fields(line string) []string {
	return regexp.MustCompile(` {3,}`).Split(strings.TrimSpace(line), -1)
}

// tableRow returns the cells of the row whose first cell is first.
func tableRow(t *testing.T, table, first string) []string {
	t.Helper()
	for _, l := range strings.Split(table, "\n") {
		if f := fields(l); f[0] == first {
			return f
		}
	}
	t.Fatalf("no row %q in:\n%s", first, table)
	return nil
}

func TestGetSourcesAndApps(t *testing.T) {
	t.Parallel()
	k := newKubeTest(t)
	k.createSourceAndApp(t, "web")
	k.createSourceAndApp(t, "db")
	sha := "0123456789abcdef0123456789abcdef01234567"
	k.setAppStatus(t, "web", v1alpha1.ApplicationStatus{
		LastAppliedRevision: "main@sha1:" + sha,
		Conditions: []metav1.Condition{readyCondition(metav1.ConditionTrue, v1alpha1.ReasonSucceeded,
			"Applied revision main@sha1:"+sha)},
	})

	r := k.run(t, 0, "get", "apps")
	if got, want := fields(strings.SplitN(r.stdout, "\n", 2)[0]), []string{"NAME", "READY", "REVISION", "SUSPENDED", "AGE", "MESSAGE"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("header %q, want %q", got, want)
	}
	if got := tableRow(t, r.stdout, "web"); len(got) != 6 || got[1] != "True" || got[2] != "main@sha1:0123456789ab" ||
		got[3] != "false" || got[5] != "Applied revision main@sha1:"+sha {
		t.Errorf("row of web %q, want Ready True, short revision, not suspended, the Ready message", got)
	}
	if got := tableRow(t, r.stdout, "db"); got[1] != "Unknown" || got[2] != "false" {
		t.Errorf("row of db %q, want Ready Unknown and no revision", got)
	}
	if strings.Index(r.stdout, "\ndb ") > strings.Index(r.stdout, "\nweb ") {
		t.Errorf("rows not sorted by name:\n%s", r.stdout)
	}

	r = k.run(t, 0, "get", "sources")
	tableRow(t, r.stdout, "web")
	tableRow(t, r.stdout, "db")
	r = k.run(t, 0, "get", "sources", "git", "web")
	if n := strings.Count(r.stdout, "\n"); n != 2 {
		t.Errorf("get sources git web printed %d lines, want header and one row:\n%s", n, r.stdout)
	}

	// -A lists every namespace, with a NAMESPACE column first.
	r = mustCruise(t, 0, "get", "apps", "-A", "--kubeconfig", env.Cluster.Kubeconfig)
	if !strings.HasPrefix(r.stdout, "NAMESPACE ") {
		t.Errorf("get apps -A lacks the NAMESPACE column:\n%s", r.stdout)
	}
	if got := tableRow(t, r.stdout, k.ns); got[1] != "db" {
		t.Errorf("first row of namespace %s: %q, want db", k.ns, got)
	}

	// -o json: a list of the objects, with apiVersion and kind.
	r = k.run(t, 0, "get", "apps", "-o", "json")
	var list v1alpha1.ApplicationList
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("get apps -o json: %v\n%s", err, r.stdout)
	}
	if list.Kind != "ApplicationList" || len(list.Items) != 2 || list.Items[1].Name != "web" ||
		list.Items[1].Kind != "Application" || list.Items[1].Status.LastAppliedRevision == "" {
		t.Errorf("get apps -o json = %+v, want the two Applications with status", list)
	}
	// -o yaml of one object.
	r = k.run(t, 0, "get", "source", "web", "-o", "yaml")
	var repo v1alpha1.GitRepository
	if err := yaml.UnmarshalStrict([]byte(r.stdout), &repo); err != nil {
		t.Fatalf("get source web -o yaml: %v\n%s", err, r.stdout)
	}
	if repo.Kind != "GitRepository" || repo.APIVersion != "cruise.dev/v1alpha1" || repo.Spec.URL != "https://git.example.com/web.git" {
		t.Errorf("get source web -o yaml = %+v", repo)
	}
	if strings.Contains(r.stdout, "managedFields") {
		t.Errorf("-o yaml shows managedFields:\n%s", r.stdout)
	}

	// An empty namespace is no error; the note goes to stderr.
	empty := newKubeTest(t)
	r = empty.run(t, 0, "get", "apps")
	if r.stdout != "" || r.stderr != "no Applications found in namespace "+empty.ns+"\n" {
		t.Errorf("empty namespace: stdout %q, stderr %q", r.stdout, r.stderr)
	}
}
