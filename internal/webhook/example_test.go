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
	trigger := webhook.TriggerFunc(func(_ context.Context, ev webhook.Event) ([]string, error) {
		// The operator's Annotator asks for a fetch of every GitRepository
		// whose spec.url ev.Matches.
		if ev.Matches("git@git.example.net:team/config.git") {
			return []string{"apps/config"}, nil
		}
		return nil, nil
	})
	h := webhook.NewHandler(receivers, trigger, webhook.Options{})

	body := `{"url": "https://git.example.net/team/config.git", "ref": "refs/heads/main"}`
	req := httptest.NewRequest(http.MethodPost, "/hook/c2b0a1f4e9d8", strings.NewReader(body))
	req.Header.Set("X-Cruise-Signature", "sha256="+webhook.SignBody(secret, []byte(body)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output:
	// 202 {"triggered":1,"repositories":["apps/config"]}
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
