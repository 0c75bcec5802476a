package image_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/cruisegitops/cruise/internal/image"
	"github.com/cruisegitops/cruise/internal/image/registrytest"
)

func scanOf(reg *registrytest.Registry, repo string) image.Scan {
	ex, _ := image.CompileExclusions(nil)
	return image.Scan{Image: reg.Host() + "/" + repo, Insecure: true, Exclude: ex}
}

func TestScanPagesFiltersAndLimits(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{PageSize: 7})
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	digest := reg.Push("team/app", "1.0.0", registrytest.Image(t, created, "a"))
	var tags []string
	for i := 1; i <= 30; i++ {
		tags = append(tags, fmt.Sprintf("1.%d.0", i))
	}
	reg.Tag("team/app", "1.0.0", append(tags, "sha256-abc.sig", "sha256-abc.att", "sha256-abc.sbom", "dev-1")...)

	ctx := context.Background()
	s := scanOf(reg, "team/app")
	res, err := s.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tags) != 32 || res.Truncated {
		t.Fatalf("tags = %d %v (truncated %v), want 32 without signatures", len(res.Tags), res.Tags, res.Truncated)
	}
	for _, tag := range res.Tags {
		if strings.HasPrefix(tag, "sha256-") {
			t.Fatalf("kept %s", tag)
		}
	}
	// 35 tags at 7 a page: 5 pages, plus the one 404-free ping the client
	// makes first.
	if res.Requests < 5 || res.Requests > 7 {
		t.Fatalf("%d requests for 5 pages", res.Requests)
	}

	s.Include = regexp.MustCompile(`^1\.`)
	s.TagLimit = 10
	res, err = s.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tags) != 10 || !res.Truncated {
		t.Fatalf("limited scan = %v (truncated %v)", res.Tags, res.Truncated)
	}
	if res.Requests > 4 {
		t.Fatalf("a scan limited to 10 tags made %d requests: it read pages it did not need", res.Requests)
	}

	got, err := s.Digest(ctx, "1.3.0")
	if err != nil || got != digest {
		t.Fatalf("Digest = %s, %v; want %s", got, err, digest)
	}
	when, err := s.Created(ctx, "1.3.0")
	if err != nil || !when.Equal(created) {
		t.Fatalf("Created = %v, %v; want %v", when, err, created)
	}
}

func TestScanAuth(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{Username: "bot", Password: "hunter2"})
	reg.Push("private/app", "1.0.0", registrytest.Image(t, time.Now(), "a"))
	ctx := context.Background()

	s := scanOf(reg, "private/app")
	s.Auth = authn.FromConfig(authn.AuthConfig{Username: "bot", Password: "hunter2"})
	if res, err := s.Run(ctx); err != nil || len(res.Tags) != 1 {
		t.Fatalf("with credentials: %v, %v", res.Tags, err)
	}
	s.Auth = authn.FromConfig(authn.AuthConfig{Username: "bot", Password: "wrong"})
	_, err := s.Run(ctx)
	if !errors.Is(err, image.ErrUnauthorized) || !strings.Contains(err.Error(), reg.Host()) || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("wrong password: %v", err)
	}
	s.Auth = nil
	if _, err := s.Run(ctx); !errors.Is(err, image.ErrUnauthorized) {
		t.Fatalf("anonymous: %v", err)
	}
}

func TestScanErrors(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	ctx := context.Background()
	if _, err := scanOf(reg, "nothing/here").Run(ctx); !errors.Is(err, image.ErrNotFound) || !strings.Contains(err.Error(), reg.Host()) {
		t.Fatalf("missing repository: %v", err)
	}
	dead := image.Scan{Image: "127.0.0.1:1/app", Insecure: true}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := dead.Run(ctx); !errors.Is(err, image.ErrUnreachable) || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("unreachable: %v", err)
	}
	if _, err := (image.Scan{Image: "UPPER/case:tag"}).Run(ctx); err == nil {
		t.Fatal("a malformed image name scanned")
	}
}

func TestScanHonoursRetryAfter(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	reg.Push("app", "1", registrytest.Image(t, time.Now(), "a"))
	ctx := context.Background()

	reg.RateLimit("/tags/list", "0", 2)
	before := reg.Requests()
	res, err := scanOf(reg, "app").Run(ctx)
	if err != nil || len(res.Tags) != 1 {
		t.Fatalf("after two 429s: %v, %v", res.Tags, err)
	}
	if n := reg.Requests() - before; n < 3 {
		t.Fatalf("%d requests: the 429s were not retried", n)
	}

	// A registry asking for an hour's pause is not waited for.
	reg.RateLimit("/tags/list", "3600", 1)
	s := scanOf(reg, "app")
	s.MaxRetryWait = time.Second
	start := time.Now()
	if _, err := s.Run(ctx); err == nil || !strings.Contains(err.Error(), "429") {
		t.Fatalf("Retry-After 3600: %v", err)
	}
	if time.Since(start) > 20*time.Second {
		t.Fatal("waited for a Retry-After over MaxRetryWait")
	}
}
