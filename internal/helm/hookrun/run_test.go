package hookrun_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/internal/helm"
	"github.com/cruisegitops/cruise/internal/helm/hookrun"
)

// TestOrderAndCompletion runs a phase of four hooks given out of order:
// they run by weight, then name; each Job completes before the next hook
// is created; a ConfigMap or ServiceAccount is done once created; a hook
// of another event does not run; every hook object carries the labels.
func TestOrderAndCompletion(t *testing.T) {
	ns := namespace(t)
	r := runner(ns)
	var created []string
	r.Progress = func(s hookrun.Step) {
		if s.Action != hookrun.Created {
			return
		}
		created = append(created, s.Ref.String())
		if s.Ref.Name == "after" {
			// Asked of the API server at the moment "after" is created:
			// the Job before it has completed.
			var j batchv1.Job
			if err := k8s.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "migrate"}, &j); err != nil {
				t.Errorf("get Job migrate when after is created: %v", err)
				return
			}
			if !jobCondition(&j, batchv1.JobComplete) {
				t.Errorf("Job after created before Job migrate completed: %+v", j.Status)
			}
		}
	}
	hooks := []helm.Hook{
		hook(t, "pre-upgrade", 10, "", job("after", "", "")),
		hook(t, "pre-install,pre-upgrade", 0, "", job("migrate", "", "")),
		hook(t, "pre-upgrade", -5, "", configMap("settings")),
		hook(t, "pre-upgrade", -5, "", `{apiVersion: v1, kind: ServiceAccount, metadata: {name: hook-sa}}`),
		hook(t, "post-upgrade", -10, "", configMap("post-only")),
	}
	res, err := r.Run(t.Context(), helm.PreUpgrade, hooks)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := []string{
		"ServiceAccount/" + ns + "/hook-sa",
		"ConfigMap/" + ns + "/settings",
		"Job/" + ns + "/migrate",
		"Job/" + ns + "/after",
	}
	if !slices.Equal(created, want) {
		t.Errorf("created %v, want %v", created, want)
	}
	var got []string
	for _, x := range res {
		got = append(got, fmt.Sprintf("%s %s created=%v succeeded=%v deleted=%v %q", x.Ref, x.Source, x.Created, x.Succeeded, x.Deleted, x.Message))
	}
	wantRes := []string{
		want[0] + ` web/templates/hook-sa.yaml created=true succeeded=true deleted=false "created"`,
		want[1] + ` web/templates/settings.yaml created=true succeeded=true deleted=false "created"`,
		want[2] + ` web/templates/migrate.yaml created=true succeeded=true deleted=false "1 of 1 completions"`,
		want[3] + ` web/templates/after.yaml created=true succeeded=true deleted=false "1 of 1 completions"`,
	}
	for _, x := range res {
		t.Logf("%s took %s", x.Ref, x.Duration)
	}
	if !slices.Equal(got, wantRes) {
		t.Errorf("results:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantRes, "\n"))
	}
	var cm corev1.ConfigMap
	if !exists(t, &cm, ns, "settings") {
		t.Fatal("ConfigMap settings is gone; the default policy deletes nothing after the run")
	}
	if cm.Labels[hookrun.LabelHookOf] != "web" || cm.Labels[hookrun.LabelHookOfNamespace] != ns {
		t.Errorf("labels = %v, want %s=web and %s=%s", cm.Labels, hookrun.LabelHookOf, hookrun.LabelHookOfNamespace, ns)
	}
	if exists(t, &corev1.ConfigMap{}, ns, "post-only") {
		t.Error("the post-upgrade hook ran in the pre-upgrade phase")
	}
}

// TestJobFails: the Job controller fails a Job whose Pod stays Pending
// past activeDeadlineSeconds (kwok has no stage that fails a Pod). The
// error names the Job and carries the Job's reason; the later hook does
// not run; hook-failed deletes the Job and hook-succeeded the hook that
// succeeded before it, as Helm does.
func TestJobFails(t *testing.T) {
	ns := namespace(t)
	r := runner(ns)
	hooks := []helm.Hook{
		hook(t, "pre-install", 1, "", configMap("later")),
		hook(t, "pre-install", 0, "hook-failed", job("doomed", "  activeDeadlineSeconds: 1", unschedulable)),
		hook(t, "pre-install", -1, "hook-succeeded", configMap("earlier")),
	}
	res, err := r.Run(t.Context(), helm.PreInstall, hooks)
	want := "hook Job " + ns + "/doomed (pre-install, from web/templates/doomed.yaml) failed: DeadlineExceeded: Job was active longer than specified deadline"
	if err == nil || err.Error() != want {
		t.Fatalf("Run error = %v\nwant %s", err, want)
	}
	var he *hookrun.HookError
	if !errors.As(err, &he) || he.Reason != hookrun.ReasonFailed || he.Ref.Name != "doomed" {
		t.Errorf("error = %#v, want a HookError of reason Failed for doomed", err)
	}
	if len(res) != 2 || res[0].Ref.Name != "earlier" || !res[0].Deleted || res[1].Ref.Name != "doomed" || res[1].Succeeded || !res[1].Deleted {
		t.Errorf("results = %+v, want earlier (deleted) and doomed (failed, deleted)", res)
	}
	if exists(t, &batchv1.Job{}, ns, "doomed") {
		t.Error("Job doomed is still there despite hook-failed")
	}
	if exists(t, &corev1.ConfigMap{}, ns, "earlier") {
		t.Error("ConfigMap earlier is still there despite hook-succeeded")
	}
	if exists(t, &corev1.ConfigMap{}, ns, "later") {
		t.Error("the hook after the failed one ran")
	}
}

// TestTimeout: a Job whose Pod never runs fails the phase after Timeout,
// naming the Job and its progress; without hook-failed it stays for
// inspection, and the later hook does not run.
func TestTimeout(t *testing.T) {
	ns := namespace(t)
	r := runner(ns)
	r.Timeout = 3 * time.Second
	hooks := []helm.Hook{
		hook(t, "pre-install", 0, "", job("stuck", "", unschedulable)),
		hook(t, "pre-install", 1, "", configMap("later")),
	}
	start := time.Now()
	_, err := r.Run(t.Context(), helm.PreInstall, hooks)
	want := "hook Job " + ns + "/stuck (pre-install, from web/templates/stuck.yaml) did not complete within 3s: 0 of 1 completions"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("Run error = %v\nwant it to start with %s", err, want)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Run took %s with a 3s timeout", took)
	}
	var he *hookrun.HookError
	if !errors.As(err, &he) || he.Reason != hookrun.ReasonTimeout {
		t.Errorf("error = %#v, want reason Timeout", err)
	}
	if !exists(t, &batchv1.Job{}, ns, "stuck") {
		t.Error("Job stuck was deleted without hook-failed")
	}
	if exists(t, &corev1.ConfigMap{}, ns, "later") {
		t.Error("the hook after the timed-out one ran")
	}
}

// TestBeforeHookCreation: a second run replaces the completed Job of the
// first (the default policy); the old Job's Pods are gone before the new
// Job is created (foreground deletion: a Job's default is to orphan them,
// and background deletion would let them linger).
func TestBeforeHookCreation(t *testing.T) {
	ns := namespace(t)
	r := runner(ns)
	hooks := []helm.Hook{hook(t, "pre-upgrade", 0, "", job("migrate", "", ""))}
	if _, err := r.Run(t.Context(), helm.PreUpgrade, hooks); err != nil {
		t.Fatalf("first Run: %v", err)
	}
	var first batchv1.Job
	if !exists(t, &first, ns, "migrate") {
		t.Fatal("Job migrate is missing after the first run")
	}
	// Asked when the runner reports the old Job gone, before it creates
	// the new one: the old Job's Pods are gone too.
	oldPods := -1
	r.Progress = func(s hookrun.Step) {
		if s.Action != hookrun.Replaced {
			return
		}
		var pods corev1.PodList
		if err := k8s.List(t.Context(), &pods, client.InNamespace(ns), client.MatchingLabels{"batch.kubernetes.io/controller-uid": string(first.UID)}); err != nil {
			t.Errorf("list Pods of the first Job: %v", err)
		}
		oldPods = len(pods.Items)
	}
	res, err := r.Run(t.Context(), helm.PreUpgrade, hooks)
	if err != nil {
		t.Fatalf("second Run: %v", err)
	}
	if oldPods != 0 {
		t.Errorf("%d Pods of the first Job were left when it was replaced (-1: never reported)", oldPods)
	}
	if len(res) != 1 || !res[0].Replaced || !res[0].Succeeded {
		t.Errorf("results = %+v, want migrate replaced and succeeded", res)
	}
	var second batchv1.Job
	if !exists(t, &second, ns, "migrate") || second.UID == first.UID {
		t.Fatalf("Job migrate was not replaced (first UID %s, now %s)", first.UID, second.UID)
	}
	if !jobCondition(&second, batchv1.JobComplete) {
		t.Errorf("the new Job is not Complete: %+v", second.Status)
	}
}

// TestHookSucceeded: hooks with hook-succeeded are deleted once the whole
// phase has succeeded, last first, as Helm does.
func TestHookSucceeded(t *testing.T) {
	ns := namespace(t)
	r := runner(ns)
	var steps []string
	r.Progress = func(s hookrun.Step) { steps = append(steps, string(s.Action)+" "+s.Ref.Name) }
	hooks := []helm.Hook{
		hook(t, "post-install", 1, "hook-succeeded", job("smoke", "", "")),
		hook(t, "post-install", 0, "hook-succeeded,before-hook-creation", configMap("a")),
		hook(t, "post-install", 2, "before-hook-creation", configMap("kept")),
	}
	res, err := r.Run(t.Context(), helm.PostInstall, hooks)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := []string{"created a", "succeeded a", "created smoke", "succeeded smoke", "created kept", "succeeded kept", "deleted smoke", "deleted a"}
	if !slices.Equal(steps, want) {
		t.Errorf("steps %v\nwant  %v", steps, want)
	}
	if !res[0].Deleted || !res[1].Deleted || res[2].Deleted {
		t.Errorf("results = %+v, want a and smoke deleted, kept kept", res)
	}
	if exists(t, &batchv1.Job{}, ns, "smoke") || exists(t, &corev1.ConfigMap{}, ns, "a") {
		t.Error("a hook-succeeded hook is still there")
	}
	if !exists(t, &corev1.ConfigMap{}, ns, "kept") {
		t.Error("ConfigMap kept was deleted without hook-succeeded")
	}
}

func jobCondition(j *batchv1.Job, t batchv1.JobConditionType) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == t && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}
