package notify

import (
	"strings"
	"testing"
)

// TestKeyIgnoresVolatileText: retries of one failure, whose messages
// differ only in timestamps, durations, SHAs, UIDs, resourceVersions and
// counts, have one key; a different cause has another.
func TestKeyIgnoresVolatileText(t *testing.T) {
	app := ObjectRef{Kind: "Application", Namespace: "team-a", Name: "web"}
	for _, tc := range []struct {
		name     string
		variants []string
	}{
		{"revision and line", []string{
			"render app at main@sha1:0123456789abcdef0123456789abcdef01234567: render: app/a.yaml:3: yaml: did not find expected key",
			"render app at main@sha1:fedcba9876543210fedcba9876543210fedcba98: render: app/a.yaml:3: yaml: did not find expected key",
		}},
		{"timestamps", []string{
			"Deployment/team-a/web: not healthy at 2026-12-05T01:02:59Z",
			"Deployment/team-a/web: not healthy at 2026-12-05T01:07:13.123456Z",
			"Deployment/team-a/web: not healthy at 2026-12-05 01:09:00.5 +0000 UTC",
		}},
		{"durations", []string{
			"timed out after 5m0s waiting for Deployment/team-a/web: 1 of 3 updated replicas are available",
			"timed out after 4m59.8s waiting for Deployment/team-a/web: 2 of 3 updated replicas are available",
			"timed out after 250ms waiting for Deployment/team-a/web: 0 of 3 updated replicas are available",
		}},
		{"resourceVersion and uid", []string{
			`Operation cannot be fulfilled on configmaps "a": the object has been modified; resourceVersion 12345, uid 5c0f4d2e-1b7a-4c59-9f0e-3f1c2b4a5d6e`,
			`Operation cannot be fulfilled on configmaps "a": the object has been modified; resourceVersion 12399, uid 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d`,
		}},
		{"pod hash and address", []string{
			"Pod/team-a/web-7d9f8c6b5-x2x4z: dial tcp 10.0.0.12:8443: connect: connection refused",
			"Pod/team-a/web-5b4c3d2e1-q9w8t: dial tcp 10.0.0.97:8443: connect: connection refused",
		}},
		{"white space", []string{"render:  a.yaml:\n  bad", "render: a.yaml: bad"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := Key(Event{Type: Failed, Object: app, Reason: "RenderFailed", Message: tc.variants[0]})
			for _, v := range tc.variants[1:] {
				if got := Key(Event{Type: Failed, Object: app, Reason: "RenderFailed", Message: v}); got != want {
					t.Errorf("%q\nand %q\nnormalize to %q\nand %q: different keys", tc.variants[0], v, Normalize(tc.variants[0]), Normalize(v))
				}
			}
		})
	}
}

func TestKeyTellsCausesApart(t *testing.T) {
	base := Event{Type: Failed, Object: ObjectRef{Kind: "Application", Namespace: "team-a", Name: "web"},
		Reason: "RenderFailed", Message: "render: app/a.yaml: yaml: did not find expected key"}
	key := Key(base)
	for name, change := range map[string]func(*Event){
		"another file":    func(e *Event) { e.Message = "render: app/b.yaml: yaml: did not find expected key" },
		"another error":   func(e *Event) { e.Message = "render: app/a.yaml: duplicate object" },
		"another reason":  func(e *Event) { e.Reason = "ValidationFailed" },
		"another type":    func(e *Event) { e.Type = HealthDegraded },
		"another object":  func(e *Event) { e.Object.Name = "api" },
		"another ns":      func(e *Event) { e.Object.Namespace = "team-b" },
		"another kind":    func(e *Event) { e.Object.Kind = "GitRepository" },
		"word not number": func(e *Event) { e.Message = "render: app/a.yaml: yaml: did not find expected value" },
	} {
		ev := base
		change(&ev)
		if Key(ev) == key {
			t.Errorf("%s: same key as the base event", name)
		}
	}
}

// TestKeyOfTruncatedMessage: a condition keeps 1,024 bytes of a message
// (1,021 and "..."); its key equals the full message's, so a failure
// seeded from status at start-up is not sent again.
func TestKeyOfTruncatedMessage(t *testing.T) {
	full := "apply: " + strings.Repeat("ConfigMap/team-a/x is invalid; ", 80)
	cond := full[:1021] + "..."
	ev := Event{Type: Failed, Object: ObjectRef{Kind: "Application", Namespace: "a", Name: "b"}, Reason: "ApplyFailed"}
	a, b := ev, ev
	a.Message, b.Message = full, cond
	if Key(a) != Key(b) {
		t.Error("the key of a message differs from the key of its truncated condition message")
	}
}
