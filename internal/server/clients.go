package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cruisegitops/cruise/oauth"
	"github.com/cruisegitops/cruise/oauth/store"
)

// RegisterClients makes sure the built-in authorization server knows the
// UI (redirecting to publicURL/callback) and the CLI (loopback redirects,
// any port, and the device flow) as public clients with fixed IDs. A
// client whose redirect URIs changed (a new public URL) is replaced.
func RegisterClients(ctx context.Context, st store.Store, publicURL string) error {
	want := []struct {
		id   string
		spec oauth.ClientSpec
	}{
		{UIClientID, oauth.ClientSpec{Name: "cruise web UI", Public: true, RedirectURIs: []string{publicURL + "/callback"},
			GrantTypes: []string{store.GrantAuthorizationCode, store.GrantRefreshToken}}},
		{CLIClientID, oauth.ClientSpec{Name: "cruise CLI", Public: true,
			RedirectURIs: []string{"http://127.0.0.1/callback", "http://[::1]/callback"},
			GrantTypes:   []string{store.GrantAuthorizationCode, store.GrantRefreshToken, store.GrantDeviceCode}}},
	}
	for _, w := range want {
		have, err := st.GetClient(ctx, w.id)
		switch {
		case err == nil && slices.Equal(have.RedirectURIs, w.spec.RedirectURIs) && slices.Equal(have.GrantTypes, w.spec.GrantTypes):
			continue
		case err == nil:
			if err := st.DeleteClient(ctx, w.id); err != nil {
				return fmt.Errorf("replace client %s: %w", w.id, err)
			}
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("read client %s: %w", w.id, err)
		}
		c, _, err := oauth.NewClient(w.spec, time.Now())
		if err != nil {
			return fmt.Errorf("client %s: %w", w.id, err)
		}
		c.ID = w.id
		if err := st.CreateClient(ctx, c); err != nil {
			return fmt.Errorf("register client %s: %w", w.id, err)
		}
	}
	return nil
}
