package oauth_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/oauth"
)

// batch is the number of token requests one benchmark iteration makes, so
// that `-benchtime 5x` still measures thousands of requests.
const batch = 1000

// BenchmarkTokenEndpoint measures throughput and latency of the token
// endpoint (client_credentials, refresh_token) and of introspection, at
// concurrency 1 and 32, on SQLite and PostgreSQL, over real HTTP on
// loopback. Reported: req/s, p50-ms and p99-ms per request.
func BenchmarkTokenEndpoint(b *testing.B) {
	for _, backend := range backends {
		for _, kind := range []string{"client_credentials", "refresh_token", "introspection"} {
			for _, conc := range []int{1, 32} {
				b.Run(fmt.Sprintf("%s/%s/c%d", backend, kind, conc), func(b *testing.B) {
					benchToken(b, backend, kind, conc)
				})
			}
		}
	}
}

func benchToken(b *testing.B, backend, kind string, conc int) {
	e := newEnv(b, backend, func(o *oauth.Options) { o.IntrospectionRate = 1e9 })
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * conc, MaxConnsPerHost: 2 * conc}}
	tokenURL, introspectURL := e.url(oauth.PathToken), e.url(oauth.PathIntrospect)
	basic := basicAuth(e.confidential.ID, e.secret)["Authorization"][0]
	introspected := e.post(oauth.PathToken, url.Values{"grant_type": {"client_credentials"}}, basicAuth(e.confidential.ID, e.secret)).str("access_token")

	// Each refresh worker follows its own rotation chain.
	chains := make([]string, conc)
	if kind == "refresh_token" {
		for i := range chains {
			code, verifier := e.codeFor(e.public, loopbackRedirect, "cruise:read")
			chains[i] = e.redeem(e.public, code, verifier, loopbackRedirect).str("refresh_token")
		}
	}
	do := func(worker int) error {
		var req *http.Request
		switch kind {
		case "client_credentials":
			req, _ = http.NewRequest(http.MethodPost, tokenURL, strings.NewReader("grant_type=client_credentials&scope=cruise%3Aread"))
			req.Header.Set("Authorization", basic)
		case "refresh_token":
			form := url.Values{"grant_type": {"refresh_token"}, "client_id": {e.public.ID}, "refresh_token": {chains[worker]}}
			req, _ = http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
		case "introspection":
			req, _ = http.NewRequest(http.MethodPost, introspectURL, strings.NewReader("token="+introspected))
			req.Header.Set("Authorization", basic)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var body struct {
			RefreshToken string `json:"refresh_token"`
			Active       *bool  `json:"active"`
		}
		if err := decodeJSON(resp, &body); err != nil || resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d: %v", resp.StatusCode, err)
		}
		if kind == "refresh_token" {
			chains[worker] = body.RefreshToken
		}
		if kind == "introspection" && (body.Active == nil || !*body.Active) {
			return fmt.Errorf("token inactive")
		}
		return nil
	}

	var latencies []time.Duration
	var mu sync.Mutex
	var elapsed time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, conc)
		for w := range conc {
			wg.Go(func() {
				local := make([]time.Duration, 0, batch/conc+1)
				for i := w; i < batch; i += conc {
					t0 := time.Now()
					if err := do(w); err != nil {
						errs <- err
						return
					}
					local = append(local, time.Since(t0))
				}
				mu.Lock()
				latencies = append(latencies, local...)
				mu.Unlock()
			})
		}
		wg.Wait()
		elapsed += time.Since(start)
		close(errs)
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(float64(len(latencies)-1)*p)].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
