package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

func TestDevServer(t *testing.T) {
	if os.Getenv("WEB_DEV") == "" {
		t.Skip()
	}
	r := newRenderer(t)
	csp := "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	mux := http.NewServeMux()
	mux.Handle("/static/", Static())
	page := func(f func(w http.ResponseWriter, req *http.Request) error) http.HandlerFunc {
		return func(w http.ResponseWriter, req *http.Request) {
			w.Header().Set("Content-Security-Policy", csp)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			if err := f(w, req); err != nil {
				t.Log(err)
			}
		}
	}
	apps := []apiv1.Application{shopApp()}
	for i := range 40 {
		a := shopApp()
		a.Name = fmt.Sprintf("app-%02d", i)
		a.Sync, a.Health, a.Ready, a.Message = apiv1.SyncSynced, apiv1.HealthHealthy, "True", "Applied revision main@sha1:0123456"
		if i%7 == 3 {
			a.Health = apiv1.HealthProgressing
		}
		if i%11 == 5 {
			a.Suspended = true
			a.Health = apiv1.HealthSuspended
		}
		apps = append(apps, a)
	}
	mux.Handle("GET /{$}", page(func(w http.ResponseWriter, req *http.Request) error {
		return r.Overview(w, &OverviewPage{Common: common("Applications"), Apps: apps, Total: 120,
			Counts:     map[string]int{"Synced": 110, "OutOfSync": 10, "Healthy": 100, "Progressing": 12, "Degraded": 5, "Suspended": 3},
			Namespaces: []string{"ops", "shop"}, Filters: Filters{Q: req.URL.Query().Get("q")}, NextURL: "/?continue=x"})
	}))
	n := 12
	if v := os.Getenv("WEB_DEV_N"); v != "" {
		fmt.Sscan(v, &n)
	}
	ap := appPage(shopApp(), bigTree(n))
	ap.Tree.Resources[0].Health = apiv1.HealthDegraded
	ap.Tree.Resources[0].Message = "1 of 3 replicas unavailable"
	if len(ap.Tree.Resources) > 2 {
		ap.Tree.Resources[2].Health = apiv1.HealthProgressing
	}
	ap.FlashErr = "Rollback refused: confirm=yes missing"
	mux.Handle("GET /apps/shop/web", page(func(w http.ResponseWriter, req *http.Request) error { return r.Application(w, ap) }))
	mux.Handle("GET /apps/shop/web/live", page(func(w http.ResponseWriter, req *http.Request) error {
		p2 := *ap
		p2.App.Sync, p2.App.Health, p2.App.Ready, p2.App.Message = apiv1.SyncSynced, apiv1.HealthHealthy, "True", "LIVE-SWAPPED"
		return r.Live(w, &p2)
	}))
	mux.Handle("GET /apps/shop/web/diff", page(func(w http.ResponseWriter, req *http.Request) error {
		return r.Diff(w, &DiffPage{Common: common("Diff"), App: shopApp(), Diff: &apiv1.Diff{Revision: "main@sha1:" + commit, Changes: []apiv1.DiffChange{
			{Kind: "Deployment", Namespace: "shop", Name: "web", Action: "update", Patch: "--- live\n+++ git\n@@ -10,7 +10,7 @@ spec:\n   selector:\n     app: web\n-  replicas: 1\n+  replicas: 3\n   template:\n     <script>alert(1)</script>\n"},
			{Kind: "ConfigMap", Namespace: "shop", Name: "old", Action: "prune"},
			{Kind: "Service", Namespace: "shop", Name: "new", Action: "create", Patch: "+apiVersion: v1\n+kind: Service\n"},
		}}})
	}))
	mux.Handle("GET /login", page(func(w http.ResponseWriter, req *http.Request) error {
		return r.Login(w, &LoginPage{Common: Common{Title: "Logged out"}, LoginURL: "/"})
	}))
	mux.Handle("GET /err", page(func(w http.ResponseWriter, req *http.Request) error {
		return r.Error(w, &ErrorPage{Common: common("Error"), Status: 403, Code: "forbidden", Message: "you may not"})
	}))
	mux.HandleFunc("GET /api/v1/watch/applications", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.(http.Flusher).Flush()
		time.Sleep(300 * time.Millisecond)
		a := shopApp()
		a.Sync, a.Health, a.Ready, a.Message, a.Suspended = apiv1.SyncSynced, apiv1.HealthHealthy, "True", "SSE-UPDATED", true
		for i := 0; i < 3; i++ {
			b, _ := json.Marshal(apiv1.WatchEvent{Type: "MODIFIED", Application: a})
			fmt.Fprintf(w, "event: MODIFIED\ndata: %s\n\n", b)
			w.(http.Flusher).Flush()
		}
		<-req.Context().Done()
	})
	t.Log("listening on 127.0.0.1:8765")
	srv := &http.Server{Addr: "127.0.0.1:8765", Handler: mux}
	go func() { time.Sleep(time.Duration(120) * time.Second); srv.Close() }()
	srv.ListenAndServe()
}
