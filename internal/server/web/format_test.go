package web

import (
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

func TestAgo(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-3 * time.Second, "just now"}, // the cluster's clock a little ahead
		{0, "just now"},
		{999 * time.Millisecond, "just now"},
		{time.Second, "1s ago"},
		{12*time.Second + 900*time.Millisecond, "12s ago"},
		{59 * time.Second, "59s ago"},
		{time.Minute, "1m 0s ago"},
		{3*time.Minute + 12*time.Second, "3m 12s ago"},
		{59*time.Minute + 59*time.Second, "59m 59s ago"},
		{time.Hour, "1h 0m ago"},
		{5*time.Hour + 3*time.Minute + 40*time.Second, "5h 3m ago"},
		{47*time.Hour + 59*time.Minute, "47h 59m ago"},
		{48 * time.Hour, "2d ago"},
		{400 * 24 * time.Hour, "400d ago"},
	}
	for _, tt := range tests {
		if got := ago(tt.d); got != tt.want {
			t.Errorf("ago(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestStampAt(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	tests := []struct {
		name   string
		now, t time.Time
		want   stamp
	}{
		{"zero time", t0, time.Time{}, stamp{Zero: true}},
		{"seconds apart read differently", t0.Add(75 * time.Second), t0,
			stamp{ISO: "2026-03-04T05:06:07Z", Exact: "2026-03-04 05:06:07 UTC", Ago: "1m 15s ago"}},
		{"shown in UTC whatever the zone", t0.Add(75 * time.Second), t0.In(berlin),
			stamp{ISO: "2026-03-04T05:06:07Z", Exact: "2026-03-04 05:06:07 UTC", Ago: "1m 15s ago"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stampAt(tt.now, tt.t); got != tt.want {
				t.Errorf("stampAt = %+v, want %+v", got, tt.want)
			}
		})
	}
	// Without a Now the page counts from the time of rendering.
	if got := stampAt(time.Time{}, time.Now().Add(-5*time.Second)); got.Ago != "5s ago" && got.Ago != "6s ago" {
		t.Errorf("stampAt without now: %q, want about 5s ago", got.Ago)
	}
}

func TestSpans(t *testing.T) {
	full := "main@sha1:8f6860c024b2" + strings.Repeat("0", 28)
	tests := []struct {
		name, msg string
		want      []span
	}{
		{"no revision", "all objects are healthy", []span{{Text: "all objects are healthy"}}},
		{"empty", "", []span{{Text: ""}}},
		{"ready message", "applied revision " + full,
			[]span{{Text: "applied revision "}, {Text: "main@sha1:8f6860c024b2", Full: full}}},
		{"event with text after it", "applied " + full + ": 2 configured",
			[]span{{Text: "applied "}, {Text: "main@sha1:8f6860c024b2", Full: full}, {Text: ": 2 configured"}}},
		{"two, in parentheses and quotes", `from (` + full + `) to "release/v2@sha1:` + commit + `"`,
			[]span{{Text: "from ("}, {Text: "main@sha1:8f6860c024b2", Full: full}, {Text: `) to "`},
				{Text: "release/v2@sha1:0123456789ab", Full: "release/v2@sha1:" + commit}, {Text: `"`}}},
		{"bare sha1", "at sha1:" + commit, []span{{Text: "at "}, {Text: "sha1:0123456789ab", Full: "sha1:" + commit}}},
		{"too short to be one", "main@sha1:0123456", []span{{Text: "main@sha1:0123456"}}},
		{"longer hex is not a SHA-1", "sha1:" + commit + "ab", []span{{Text: "sha1:" + commit + "ab"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := spans(tt.msg); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("spans(%q) =\n  %+v\nwant\n  %+v", tt.msg, got, tt.want)
			}
		})
	}
}

func TestHistoryRows(t *testing.T) {
	rev := func(c byte) string { return "main@sha1:" + strings.Repeat(string(c), 40) }
	entry := func(c byte, result, digest string) apiv1.HistoryEntry {
		return apiv1.HistoryEntry{Revision: rev(c), Commit: strings.Repeat(string(c), 40), Result: result, Digest: digest}
	}
	tests := []struct {
		name     string
		revision string // the application's lastAppliedRevision
		history  []apiv1.HistoryEntry
		want     []string // Same of each row
	}{
		{"newest success is current; the rest roll back", rev('c'),
			[]apiv1.HistoryEntry{entry('d', "Failed", ""), entry('c', "Succeeded", "sha256:3"), entry('b', "Succeeded", "sha256:2")},
			[]string{"", "current", ""}},
		{"an older commit with the current digest", rev('c'),
			[]apiv1.HistoryEntry{entry('c', "Succeeded", "sha256:1"), entry('b', "Succeeded", "sha256:2"), entry('a', "Succeeded", "sha256:1")},
			[]string{"current", "", "digest"}},
		{"another sync of the current commit", rev('c'),
			[]apiv1.HistoryEntry{entry('c', "Failed", ""), entry('c', "Succeeded", "sha256:1"), entry('c', "Succeeded", "sha256:1")},
			[]string{"revision", "current", "revision"}},
		{"empty digests are never equal", rev('c'),
			[]apiv1.HistoryEntry{entry('c', "Succeeded", ""), entry('b', "Succeeded", "")},
			[]string{"current", ""}},
		{"current is the applied revision, not the newest success", rev('b'),
			[]apiv1.HistoryEntry{entry('c', "Succeeded", "sha256:3"), entry('b', "Succeeded", "sha256:2"), entry('a', "Succeeded", "sha256:3")},
			[]string{"", "current", ""}},
		{"applied revision not in the history: the newest success", rev('z'),
			[]apiv1.HistoryEntry{entry('c', "Failed", "sha256:3"), entry('b', "Succeeded", "sha256:2")},
			[]string{"", "current"}},
		{"no success at all", rev('c'),
			[]apiv1.HistoryEntry{entry('c', "Failed", "sha256:3"), entry('b', "Failed", "sha256:3")},
			[]string{"", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := historyRows(apiv1.Application{Revision: tt.revision}, tt.history)
			var got []string
			for i, r := range rows {
				got = append(got, r.Same)
				if r.Commit != tt.history[i].Commit {
					t.Errorf("row %d: commit %q, want %q", i, r.Commit, tt.history[i].Commit)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("rows = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestApplicationHistoryActions renders the history: a button where a
// rollback changes something, a note where it would not.
func TestApplicationHistoryActions(t *testing.T) {
	r := newRenderer(t)
	p := appPage(shopApp(), apiv1.ResourceTree{})
	p.History[1].Digest = "sha256:1111" // the current entry
	p.History[2].Digest = "sha256:1111" // "Initial" rendered the same
	page := render(t, func(w io.Writer) error { return r.Application(w, p) })
	mustContain(t, page,
		`data-testid="rollback" data-revision="ffffffffffffffffffffffffffffffffffffffff"`,
		`<span class="muted" data-testid="current">current</span>`,
		`<span class="muted" title="It deployed the same manifests as the current revision (sha256:1111): rolling back to it would change nothing.">same manifests</span>`,
	)
	if strings.Contains(page, `data-revision="aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"`) {
		t.Error("rollback offered to a revision with the current digest")
	}
}
