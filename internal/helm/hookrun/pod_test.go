package hookrun_test

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
	"github.com/cruisegitops/cruise/internal/helm"
	"github.com/cruisegitops/cruise/internal/helm/hookrun"
)

// TestPodHook: a bare Pod hook is waited for until Succeeded or Failed.
// kwok's stages complete only Pods owned by a Job, so the test ends the
// Pod itself through the status subresource, as the kubelet would once
// its containers exit; that is the only thing faked here.
func TestPodHook(t *testing.T) {
	ns := namespace(t)
	pod := func(name string) string {
		return `
apiVersion: v1
kind: Pod
metadata: {name: ` + name + `}
spec:
  restartPolicy: Never
  containers: [{name: check, image: registry.invalid/check:1}]
`
	}
	for _, tc := range []struct {
		name  string
		phase corev1.PodPhase
		want  string
	}{
		{"ok", corev1.PodSucceeded, ""},
		{"bad", corev1.PodFailed, "hook Pod " + ns + "/bad (post-install, from web/templates/bad.yaml) failed: container check exited with code 2 (Error)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			type outcome struct {
				res []hookrun.Result
				err error
			}
			ran := make(chan outcome, 1)
			go func() {
				res, err := runner(ns).Run(t.Context(), helm.PostInstall, []helm.Hook{hook(t, "post-install", 0, "", pod(tc.name))})
				ran <- outcome{res, err}
			}()
			clustertest.Eventually(t, time.Minute, func() (bool, error) { return finishPod(t, ns, tc.name, tc.phase) })
			o := <-ran
			if tc.want == "" {
				if o.err != nil || len(o.res) != 1 || !o.res[0].Succeeded || o.res[0].Message != "phase Succeeded" {
					t.Fatalf("Run = %+v, %v; want the Pod hook succeeded", o.res, o.err)
				}
				return
			}
			if o.err == nil || o.err.Error() != tc.want {
				t.Fatalf("Run error = %v\nwant %s", o.err, tc.want)
			}
		})
	}
}

// finishPod sets the Pod's phase and container state once kwok has it
// Running (after which kwok no longer writes its status).
func finishPod(t *testing.T, ns, name string, phase corev1.PodPhase) (bool, error) {
	var p corev1.Pod
	if err := k8s.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &p); err != nil {
		return false, err
	}
	if p.Status.Phase != corev1.PodRunning {
		return false, fmt.Errorf("phase %q", p.Status.Phase)
	}
	code, why := int32(0), "Completed"
	if phase == corev1.PodFailed {
		code, why = 2, "Error"
	}
	p.Status.Phase = phase
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{
		Name:  "check",
		Image: "registry.invalid/check:1",
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: why}},
	}}
	if err := k8s.Status().Update(t.Context(), &p); err != nil {
		return false, err
	}
	return true, nil
}
