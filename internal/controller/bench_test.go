package controller_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/internal/webhook"
)

// waitValue watches ConfigMap name until data.value is want and returns
// when the change was seen.
func waitValue(b *testing.B, ns, name, want string) time.Time {
	b.Helper()
	w, err := env.Client.CoreV1().ConfigMaps(ns).Watch(b.Context(), metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String(),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	timeout := time.After(time.Minute)
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				b.Fatal("watch closed")
			}
			if cm, ok := ev.Object.(*corev1.ConfigMap); ok && cm.Data["value"] == want {
				return time.Now()
			}
		case <-timeout:
			b.Fatalf("ConfigMap %s never got value %q", name, want)
		}
	}
}

func reportLatencies(b *testing.B, d []time.Duration) {
	slices.Sort(d)
	p := func(q float64) float64 { return d[int(q*float64(len(d)-1))].Seconds() * 1000 }
	b.ReportMetric(p(0.5), "p50-ms")
	b.ReportMetric(p(0.95), "p95-ms")
}

// BenchmarkPushToDeployed is the scenario (a): a commit is pushed
// to a Git server on loopback (HTTP), its push webhook sent, and the time
// until the changed object is visible in the cluster measured; 20 commits
// per run.
func BenchmarkPushToDeployed(b *testing.B) {
	f := newFixture(b)
	f.commit("start", map[string]string{"app/a.yaml": cmYAML("a", "start")})
	f.source()
	f.app("web", "app", nil)
	secret := []byte("bench")
	srv := httptest.NewServer(webhook.NewHandler(
		webhook.NewStaticReceivers(webhook.Receiver{Name: "github", Provider: webhook.ProviderGitHub, Secret: secret}),
		&webhook.Annotator{Client: k8s}, webhook.Options{}))
	b.Cleanup(srv.Close)
	body, _ := json.Marshal(map[string]any{"ref": "refs/heads/main", "repository": map[string]any{"clone_url": f.url}})
	waitValue(b, f.ns, "a", "start")

	var lat []time.Duration
	n := 0
	for b.Loop() {
		for range 20 {
			n++
			v := fmt.Sprintf("v%d", n)
			f.commit(v, map[string]string{"app/a.yaml": cmYAML("a", v)})
			start := time.Now()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/hook/github", bytes.NewReader(body))
			req.Header.Set("X-GitHub-Event", "push")
			req.Header.Set("X-Hub-Signature-256", "sha256="+webhook.SignBody(secret, body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			lat = append(lat, waitValue(b, f.ns, "a", v).Sub(start))
		}
	}
	reportLatencies(b, lat)
}

// BenchmarkDriftRevert is scenario (c): the time from a manual edit of a
// managed object to its revert, 20 edits per run.
func BenchmarkDriftRevert(b *testing.B) {
	f := newFixture(b)
	rev := f.commit("start", map[string]string{"app/a.yaml": cmYAML("a", "git")})
	f.source()
	f.app("web", "app", nil)
	f.waitReady("web", rev)

	var lat []time.Duration
	for b.Loop() {
		for i := range 20 {
			cm := f.configMap("a")
			cm.Data["value"] = fmt.Sprintf("manual-%d", i)
			start := time.Now()
			if err := k8s.Update(b.Context(), cm, client.FieldOwner("kubectl-edit")); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, waitValue(b, f.ns, "a", "git").Sub(start))
		}
	}
	reportLatencies(b, lat)
}
