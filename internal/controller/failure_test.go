package controller_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/source/gittest"
)

// TestRenderFailureIsRetriedAfterRetryInterval: a sync that fails (here a
// render, which stalls) is tried again after spec.retryInterval, then at
// growing intervals, long before spec.interval; the retries update the
// newest history entry rather than filling the history.
func TestRenderFailureIsRetriedAfterRetryInterval(t *testing.T) {
	f := newFixture(t)
	f.commit("broken", map[string]string{"app/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: [\n"})
	f.source()
	f.app("web", "app", func(s *cruisev1.ApplicationSpec) {
		s.RetryInterval = &metav1.Duration{Duration: time.Second}
	})
	app := f.waitCondition("web", metav1.ConditionFalse, cruisev1.ReasonRenderFailed)
	if !isStalled(app) {
		t.Errorf("a render failure should stall: %v", app.Status.Conditions)
	}

	// Each attempt stamps the newest history entry; three distinct stamps
	// are the first attempt and two retries.
	var attempts []time.Time
	f.eventually("three sync attempts", func() (bool, string) {
		app := f.getApp("web")
		if len(app.Status.History) == 0 {
			return false, "no history"
		}
		if at := app.Status.History[0].Time.Time; len(attempts) == 0 || !at.Equal(attempts[len(attempts)-1]) {
			attempts = append(attempts, at)
		}
		return len(attempts) >= 3, fmt.Sprintf("attempts at %v", attempts)
	})
	// Times are stored to the second; a gap of at least d stays at least d.
	if gap := attempts[1].Sub(attempts[0]); gap < time.Second {
		t.Errorf("first retry %s after the failure, want at least retryInterval (1s)", gap)
	}
	if first, second := attempts[1].Sub(attempts[0]), attempts[2].Sub(attempts[1]); second < 2*time.Second || second < first {
		t.Errorf("retries %s then %s apart: want them to back off from 1s", first, second)
	}
	app = f.getApp("web")
	if len(app.Status.History) != 1 || app.Status.History[0].Result != "Failed" {
		t.Errorf("history after retries of one failing revision: %+v, want one Failed entry", app.Status.History)
	}
	if !isStalled(app) {
		t.Errorf("still failing, the Application should stay Stalled: %v", app.Status.Conditions)
	}
}

// TestGitRepositoryFetchErrors: errors that retrying cannot fix stall the
// GitRepository with a reason of their own; an unreachable remote backs
// off and is not Stalled.
func TestGitRepositoryFetchErrors(t *testing.T) {
	f := newFixture(t)
	f.commit("first", map[string]string{"app/a.yaml": cmYAML("a", "one")})
	locked := gittest.ServeHTTP(t, filepath.Dir(f.repo.Dir), gittest.HTTPOptions{Username: "cruise", Password: "right"})
	creds := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: f.ns},
		Data:       map[string][]byte{"username": []byte("cruise"), "password": []byte("wrong")},
	}
	if err := k8s.Create(t.Context(), creds); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		spec    func(*cruisev1.GitRepositorySpec)
		reason  string
		stalled bool
	}{
		{"refused-credentials", func(s *cruisev1.GitRepositorySpec) {
			s.URL = locked.RepoURL("env.git")
			s.SecretRef = &cruisev1.LocalObjectReference{Name: "creds"}
		}, cruisev1.ReasonAuthenticationFailed, true},
		{"invalid-url", func(s *cruisev1.GitRepositorySpec) { s.URL = "https:///env.git" }, cruisev1.ReasonInvalidSource, true},
		{"missing-secret", func(s *cruisev1.GitRepositorySpec) {
			s.SecretRef = &cruisev1.LocalObjectReference{Name: "no-such-secret"}
		}, cruisev1.ReasonSecretNotFound, false},
		{"unknown-branch", func(s *cruisev1.GitRepositorySpec) { s.Ref = &cruisev1.GitRef{Branch: "not-yet"} }, cruisev1.ReasonRefNotFound, false},
		// Nothing listens on port 1 of the loopback address.
		{"unreachable", func(s *cruisev1.GitRepositorySpec) { s.URL = "http://127.0.0.1:1/env.git" }, cruisev1.ReasonRemoteUnreachable, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.sourceNamed(tc.name, tc.spec)
			repo := f.waitSourceCondition(tc.name, metav1.ConditionFalse, tc.reason)
			if got := meta.IsStatusConditionTrue(repo.Status.Conditions, cruisev1.ConditionStalled); got != tc.stalled {
				t.Errorf("Stalled = %v, want %v: %+v", got, tc.stalled, repo.Status.Conditions)
			}
			if repo.Status.ObservedGeneration != repo.Generation {
				t.Errorf("observedGeneration %d after a finished fetch of generation %d", repo.Status.ObservedGeneration, repo.Generation)
			}
			f.eventually("a Warning event "+tc.reason, func() (bool, string) {
				return len(f.events(tc.name, tc.reason)) > 0, "none"
			})
		})
	}
}
