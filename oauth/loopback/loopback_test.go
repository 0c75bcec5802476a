package loopback_test

import (
	"testing"

	"github.com/cruisegitops/cruise/oauth/loopback"
)

func TestIsHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1":        true,
		"127.1.2.3":        true,
		"::1":              true,
		"[::1]":            true,
		"::ffff:127.0.0.1": true,
		"localhost":        true,
		"LOCALHOST":        true,
		"10.0.0.1":         false,
		"::":               false,
		"localhost.evil":   false,
		"127.0.0.1.nip.io": false,
		"example.com":      false,
		"":                 false,
	} {
		if got := loopback.IsHost(host); got != want {
			t.Errorf("IsHost(%q) = %v, want %v", host, got, want)
		}
	}
}
