package notify

import (
	"errors"
	"strings"
	"testing"
)

func TestAlertSelects(t *testing.T) {
	failed := Event{Type: Failed, Severity: SeverityError, Object: ObjectRef{Kind: "Application", Namespace: "team-a", Name: "web-prod"},
		Labels: map[string]string{"tier": "prod"}, Message: "render: app/a.yaml: bad"}
	synced := Event{Type: Synced, Severity: SeverityInfo, Object: failed.Object, Labels: failed.Labels, Message: "applied main@sha1:abc"}
	all := []Source{{Kind: "Application"}}
	for _, tc := range []struct {
		name string
		spec AlertSpec
		ev   Event
		want bool
	}{
		{"every Application", AlertSpec{Sources: all}, failed, true},
		{"name glob", AlertSpec{Sources: []Source{{Kind: "Application", Name: "web-*"}}}, failed, true},
		{"name glob misses", AlertSpec{Sources: []Source{{Kind: "Application", Name: "api-*"}}}, failed, false},
		{"star", AlertSpec{Sources: []Source{{Kind: "Application", Name: "*"}}}, failed, true},
		{"labels", AlertSpec{Sources: []Source{{Kind: "Application", MatchLabels: map[string]string{"tier": "prod"}}}}, failed, true},
		{"labels miss", AlertSpec{Sources: []Source{{Kind: "Application", MatchLabels: map[string]string{"tier": "dev"}}}}, failed, false},
		{"label absent", AlertSpec{Sources: []Source{{Kind: "Application", MatchLabels: map[string]string{"team": ""}}}}, failed, false},
		{"other kind", AlertSpec{Sources: []Source{{Kind: "GitRepository"}}}, failed, false},
		{"any of the sources", AlertSpec{Sources: []Source{{Kind: "GitRepository"}, {Kind: "Application", Name: "web-prod"}}}, failed, true},
		{"other namespace", AlertSpec{Ref: Ref{Namespace: "team-b"}, Sources: all}, failed, false},
		{"severity error takes failures", AlertSpec{Severity: SeverityError, Sources: all}, failed, true},
		{"severity error leaves syncs", AlertSpec{Severity: SeverityError, Sources: all}, synced, false},
		{"severity info takes syncs", AlertSpec{Sources: all}, synced, true},
		{"inclusion", AlertSpec{Sources: all, Inclusion: []string{`^render: `}}, failed, true},
		{"inclusion misses", AlertSpec{Sources: all, Inclusion: []string{`^apply: `}}, failed, false},
		{"exclusion", AlertSpec{Sources: all, Exclusion: []string{`a\.yaml`}}, failed, false},
		{"exclusion wins over inclusion", AlertSpec{Sources: all, Inclusion: []string{`render`}, Exclusion: []string{`bad$`}}, failed, false},
		{"suspended", AlertSpec{Sources: all, Suspend: true}, failed, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.spec.Ref.Namespace == "" {
				tc.spec.Ref = Ref{Namespace: "team-a", Name: "a"}
			}
			a, err := CompileAlert(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Selects(tc.ev); got != tc.want {
				t.Errorf("Selects = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCompileAlertErrors: each bad field is named; bad patterns leave no
// Alert, bad templates leave one that sends the defaults.
func TestCompileAlertErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		spec      AlertSpec
		want      string
		keepAlert bool
	}{
		{"inclusion", AlertSpec{Inclusion: []string{"ok", "("}}, "inclusionList[1]", false},
		{"exclusion", AlertSpec{Exclusion: []string{"[a-"}}, "exclusionList[0]", false},
		{"glob", AlertSpec{Sources: []Source{{Kind: "Application", Name: "["}}}, "eventSources[0].name", false},
		{"severity", AlertSpec{Severity: "warning"}, `severity "warning"`, false},
		{"subject", AlertSpec{Subject: "{{.Type"}, "template.subject", true},
		{"body", AlertSpec{Body: "{{nosuchfunc .}}"}, "template.body", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := CompileAlert(tc.spec)
			if err == nil || !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want an ErrTemplate naming %s", err, tc.want)
			}
			if (a != nil) != tc.keepAlert {
				t.Errorf("alert %v, want one: %v", a, tc.keepAlert)
			}
			if a != nil {
				m, err := a.Render(Event{Type: Failed, Object: ObjectRef{Kind: "Application", Namespace: "n", Name: "x"}, Reason: "R"})
				if err != nil || m.Subject != "[cruise] n/x failed: R" {
					t.Errorf("an Alert with broken templates renders %q, %v; want the default", m.Subject, err)
				}
			}
		})
	}
}
