package notify

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

func failedEvent() Event {
	return Event{
		Version: PayloadVersion, ID: "id", Time: time.Date(2026, 12, 5, 1, 2, 3, 0, time.UTC),
		Type: Failed, Severity: SeverityError,
		Object:   ObjectRef{Kind: "Application", Namespace: "team-a", Name: "web", UID: "u"},
		Revision: "main@sha1:" + sha, Reason: "RenderFailed",
		Message: "render app at main@sha1:" + sha + ": render: app/a.yaml:3: yaml: did not find expected key",
		Commit:  &Commit{SHA: sha, Subject: "Break the config map", Author: "Ann <ann@example.com>"},
		Objects: []string{"app/a.yaml"},
		URL:     "https://cruise.example.com/apps/team-a/web",
	}
}

func TestDefaultSubjects(t *testing.T) {
	ev := failedEvent()
	for _, tc := range []struct {
		change func(*Event)
		want   string
	}{
		{func(*Event) {}, "[cruise] team-a/web failed: RenderFailed"},
		{func(e *Event) { e.Type = Recovered }, "[cruise] team-a/web recovered"},
		{func(e *Event) { e.Type, e.Reason = HealthDegraded, "HealthCheckFailed" }, "[cruise] team-a/web degraded: HealthCheckFailed"},
		{func(e *Event) { e.Type = Synced }, "[cruise] team-a/web synced main@0123456789ab"},
		{func(e *Event) { e.Type = DriftReverted }, "[cruise] team-a/web reverted drift"},
		{func(e *Event) { e.Type = RolledBack }, "[cruise] team-a/web rolled back: main@0123456789ab"},
		{func(e *Event) {
			e.Type, e.Object = ImageUpdated, ObjectRef{Kind: "ImageUpdateAutomation", Namespace: "team-a", Name: "images"}
		}, "[cruise] ImageUpdateAutomation team-a/images pushed main@0123456789ab"},
		{func(e *Event) {
			e.Object = ObjectRef{Kind: "GitRepository", Namespace: "team-a", Name: "env"}
			e.Reason = "AuthenticationFailed"
		}, "[cruise] GitRepository team-a/env failed: AuthenticationFailed"},
		{func(e *Event) {
			e.Type, e.Object = Digest, ObjectRef{Kind: "Alert", Namespace: "team-a", Name: "ops"}
			e.Events = []Event{{Type: Failed}, {Type: Failed}, {Type: Recovered}}
		}, "[cruise] 3 events in team-a: 2 Failed, 1 Recovered"},
	} {
		e := ev
		tc.change(&e)
		if got := DefaultSubject(e); got != tc.want {
			t.Errorf("%s: subject %q, want %q", e.Type, got, tc.want)
		}
	}
}

// TestDefaultBody: the default body of a failure names the revision in
// full, the commit, the file that failed, and links to the Application,
// its diff and the rollback.
func TestDefaultBody(t *testing.T) {
	body := DefaultBody(failedEvent())
	for _, want := range []string{
		"Application/team-a/web failed (RenderFailed)",
		"app/a.yaml:3: yaml: did not find expected key",
		"Revision:  main@sha1:" + sha,
		`Commit:    0123456789ab "Break the config map" by Ann <ann@example.com>`,
		"Failing:   app/a.yaml",
		"Open:      https://cruise.example.com/apps/team-a/web\n",
		"Diff:      https://cruise.example.com/apps/team-a/web/diff",
		"Rollback:  https://cruise.example.com/apps/team-a/web#h-history",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	if !regexp.MustCompile(`[0-9a-f]{7,}`).MatchString(body) {
		t.Error("body names no revision of at least 7 hex digits")
	}
	noURL := failedEvent()
	noURL.URL = ""
	if b := DefaultBody(noURL); strings.Contains(b, "Open:") || strings.Contains(b, "Rollback") {
		t.Errorf("without a server URL the body has links:\n%s", b)
	}
}

func TestDigestBody(t *testing.T) {
	ev := Event{Type: Digest, Object: ObjectRef{Kind: "Alert", Namespace: "team-a", Name: "ops"}}
	for i := range 150 {
		e := failedEvent()
		e.Object.Name = "web-" + string(rune('a'+i%26))
		ev.Events = append(ev.Events, e)
	}
	body := DefaultBody(ev)
	if !strings.Contains(body, "150 events in namespace team-a (150 Failed)") || !strings.Contains(body, "- and 50 more") {
		t.Errorf("digest body:\n%s", body)
	}
	if n := strings.Count(body, "\n- Failed Application/team-a/"); n != 100 {
		t.Errorf("%d events listed, want 100", n)
	}
}

func TestTemplates(t *testing.T) {
	ts, err := ParseTemplates(`{{.Type}} {{.Object.Namespace}}/{{.Object.Name}} at {{short .Revision}}`,
		"{{truncate 10 .Message}}|{{join \",\" .Objects}}|{{diffURL .}}|{{rollbackURL .}}|{{upper .Reason}}")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ts.Render(failedEvent())
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Failed team-a/web at main@0123456789ab" {
		t.Errorf("subject %q", m.Subject)
	}
	want := "render app…|app/a.yaml|https://cruise.example.com/apps/team-a/web/diff|https://cruise.example.com/apps/team-a/web#h-history|RENDERFAILED"
	if m.Body != want {
		t.Errorf("body %q, want %q", m.Body, want)
	}
}

// TestTemplateRenderErrorFallsBack: a template that fails on an event
// sends the default for that part, and says why.
func TestTemplateRenderErrorFallsBack(t *testing.T) {
	ts, err := ParseTemplates("{{.Commit.Subject}}", `{{index .Objects 5}}`)
	if err != nil {
		t.Fatal(err)
	}
	ev := failedEvent()
	ev.Commit = nil
	m, err := ts.Render(ev)
	if !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), "template.subject") || !strings.Contains(err.Error(), "template.body") {
		t.Fatalf("error %v, want both templates named", err)
	}
	if m.Subject != DefaultSubject(ev) || m.Body != DefaultBody(ev) {
		t.Errorf("message %q / %q, want the defaults", m.Subject, m.Body)
	}
	huge, _ := ParseTemplates("", `{{range $i := .Objects}}{{range 100000}}xxxxxxxx{{end}}{{end}}`)
	if _, err := huge.Render(ev); err == nil {
		t.Error("a template producing megabytes rendered")
	}
}

// TestReadmeTemplateExample: the example in docs/notifications.md renders.
func TestReadmeTemplateExample(t *testing.T) {
	ts, err := ParseTemplates(`{{if eq .Type "Failed"}}🔥 {{end}}{{.Object.Name}}: {{.Type}} {{short .Revision}}`,
		`{{body .}}{{with .Commit}}Blame: {{.Author}}{{end}}`)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ts.Render(failedEvent())
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "🔥 web: Failed main@0123456789ab" || !strings.HasSuffix(m.Body, "Blame: Ann <ann@example.com>") ||
		!strings.HasPrefix(m.Body, DefaultBody(failedEvent())) {
		t.Errorf("subject %q body %q", m.Subject, m.Body)
	}
}
