package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/cruisegitops/cruise/internal/webhook"
)

func ExampleNewHandler() {
	secret := []byte("generated-by-the-operator")
	receivers := webhook.NewStaticReceivers(webhook.Receiver{
		Name:     "c2b0a1f4e9d8",
		Provider: webhook.ProviderGeneric,
		Secret:   secret,
	})
	trigger := webhook.TriggerFunc(func(_ context.Context, ev webhook.Event) error {
		// The operator would request a reconcile of every GitRepository
		// whose spec.url ev.Matches.
		fmt.Println("fetch", ev.Matches("git@git.example.net:team/config.git"), ev.Ref)
		return nil
	})
	h := webhook.NewHandler(receivers, trigger, webhook.Options{})

	body := `{"url": "https://git.example.net/team/config.git", "ref": "refs/heads/main"}`
	req := httptest.NewRequest(http.MethodPost, "/hook/c2b0a1f4e9d8", strings.NewReader(body))
	req.Header.Set("X-Cruise-Signature", "sha256="+webhook.SignBody(secret, []byte(body)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output:
	// fetch true refs/heads/main
	// 202 {"triggered":true}
}

func ExampleNormalizeURL() {
	for _, u := range []string{
		"https://github.com/Octo-Org/deploy-config.git",
		"git@github.com:octo-org/deploy-config.git",
		"ssh://git@github.com:22/octo-org/deploy-config/",
	} {
		fmt.Println(webhook.NormalizeURL(u))
	}
	// Output:
	// github.com/octo-org/deploy-config
	// github.com/octo-org/deploy-config
	// github.com/octo-org/deploy-config
}
