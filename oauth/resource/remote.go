package resource

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// RemoteKeys fetches the key set from jwksURL and caches it for five
// minutes; Refresh re-fetches at most every ten seconds. client defaults
// to one with a 10 s timeout.
func RemoteKeys(jwksURL string, client *http.Client) KeySource {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &remoteKeys{url: jwksURL, client: client}
}

type remoteKeys struct {
	url    string
	client *http.Client

	mu      sync.Mutex // guards the fields below
	set     *jose.JSONWebKeySet
	fetched time.Time
}

func (k *remoteKeys) KeySet(ctx context.Context) (*jose.JSONWebKeySet, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.set != nil && time.Since(k.fetched) < 5*time.Minute {
		return k.set, nil
	}
	return k.fetchLocked(ctx)
}

func (k *remoteKeys) Refresh(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if time.Since(k.fetched) < 10*time.Second {
		return fmt.Errorf("key set fetched less than 10s ago")
	}
	_, err := k.fetchLocked(ctx)
	return err
}

func (k *remoteKeys) fetchLocked(ctx context.Context) (*jose.JSONWebKeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch key set: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch key set: %s", resp.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("decode key set: %w", err)
	}
	k.set, k.fetched = &set, time.Now()
	return k.set, nil
}
