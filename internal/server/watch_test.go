package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// TestWatch: Server-Sent Events carry Application changes, and a user who
// may read only namespace A, watching without a namespace, receives A's
// changes and nothing of B's.
func TestWatch(t *testing.T) {
	nsA, nsB := env.Namespace(t), env.Namespace(t)
	createApp(t, nsA, "web")
	createApp(t, nsB, "other")
	alice := uniqueUser("alice")
	bindRole(t, nsA, alice, "cruise-viewer")
	ts := newTestServer(t, map[string][]string{alice: nil})

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/v1/watch/applications", nil)
	req.Header.Set("Authorization", "Bearer "+ts.token(alice))
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("watch = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() && lines.Text() != ": connected" {
	}

	suspend := func(ns, name string) {
		app := &v1alpha1.Application{}
		must(t, k8s.Get(ctx, objKey(ns, name), app))
		patch := client.MergeFrom(app.DeepCopy())
		app.Spec.Suspend = true
		must(t, k8s.Patch(ctx, app, patch))
	}
	suspend(nsB, "other") // first, so that a leak would arrive first
	suspend(nsA, "web")

	var event string
	for lines.Scan() {
		line := lines.Text()
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			event = v
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		var ev apiv1.WatchEvent
		must(t, json.Unmarshal([]byte(data), &ev))
		if ev.Application.Namespace != nsA {
			t.Fatalf("alice received %s %s/%s", event, ev.Application.Namespace, ev.Application.Name)
		}
		if event == "MODIFIED" && ev.Application.Name == "web" && ev.Application.Suspended {
			return
		}
	}
	t.Fatalf("stream ended without web's change: %v", lines.Err())
}
