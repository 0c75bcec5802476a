package devcluster_test

import (
	"testing"

	"github.com/cruisegitops/cruise/internal/devcluster"
)

// BenchmarkStart measures how long each profile takes from nothing to ready
// (API ready; for full also nodes Ready and controllers up). Stopping is
// not timed.
func BenchmarkStart(b *testing.B) {
	for _, profile := range []devcluster.Profile{devcluster.ProfileAPI, devcluster.ProfileFull} {
		b.Run(string(profile), func(b *testing.B) {
			for b.Loop() {
				c, err := devcluster.Start(b.Context(), devcluster.Options{Profile: profile})
				if err != nil {
					b.Fatalf("start: %v", err)
				}
				b.StopTimer()
				if err := c.Stop(); err != nil {
					b.Fatalf("stop: %v", err)
				}
				b.StartTimer()
			}
		})
	}
}
