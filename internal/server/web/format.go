package web

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// stamp is a point in time as the pages show it: how long ago as the
// text, the exact time on hover, and the machine-readable value that
// app.js reads to keep the text current and show the reader's zone.
type stamp struct {
	Zero bool
	// ISO is RFC 3339 in UTC, for the datetime attribute.
	ISO string
	// Exact is the full time with seconds, for the title.
	Exact string
	// Ago is the time relative to when the page was rendered ("12s ago").
	Ago string
}

func stampAt(now, t time.Time) stamp {
	if t.IsZero() {
		return stamp{Zero: true}
	}
	if now.IsZero() {
		now = time.Now()
	}
	t = t.UTC()
	return stamp{ISO: t.Format(time.RFC3339), Exact: t.Format("2006-01-02 15:04:05 UTC"), Ago: ago(now.Sub(t))}
}

// ago says how long d is in the two largest units, down to seconds, so
// that syncs a few seconds apart read differently. app.js has the same
// function for the texts it refreshes; keep the two alike.
func ago(d time.Duration) string {
	s := int64(d / time.Second)
	switch {
	case s < 1: // a clock slightly ahead of ours, or the same second
		return "just now"
	case s < 60:
		return fmt.Sprintf("%ds ago", s)
	case s < 3600:
		return fmt.Sprintf("%dm %ds ago", s/60, s%60)
	case s < 48*3600:
		return fmt.Sprintf("%dh %dm ago", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd ago", s/86400)
}

// span is a piece of a message: plain text, or (with Full set) a
// revision shortened to Text with the full one for the title.
type span struct{ Text, Full string }

// revisionRE finds "<ref>@sha1:<40 hex>" (or a bare "sha1:<40 hex>") in
// a message. The ref stops at white space and the punctuation messages
// put around a revision. app.js has the same pattern.
var revisionRE = regexp.MustCompile(`(?:[^\s"'()<>,;]*@)?sha1:[0-9a-f]{40}\b`)

// shortHex is how many hex digits a shortened revision keeps: enough to
// stay unique in any repository a person reads, short enough for a table.
const shortHex = 12

// spans splits msg so that every full revision in it is shown short
// ("main@sha1:8f6860c024b2") with the full one on hover; the stored
// message is not changed. A message without one is a single span.
func spans(msg string) []span {
	if !strings.Contains(msg, "sha1:") {
		return []span{{Text: msg}}
	}
	var out []span
	last := 0
	for _, m := range revisionRE.FindAllStringIndex(msg, -1) {
		if m[0] > last {
			out = append(out, span{Text: msg[last:m[0]]})
		}
		full := msg[m[0]:m[1]]
		cut := len(full) - 40 + shortHex
		out = append(out, span{Text: full[:cut], Full: full})
		last = m[1]
	}
	if last < len(msg) {
		out = append(out, span{Text: msg[last:]})
	}
	return out
}

// Why a history entry offers no rollback; "" when it does.
const (
	historyCurrent      = "current"  // the entry deployed now
	historySameRevision = "revision" // another sync of the current commit
	historySameDigest   = "digest"   // another commit that rendered the same manifests
)

// historyRow is a history entry with what its action cell shows.
type historyRow struct {
	apiv1.HistoryEntry
	// Commit is what a rollback names; empty when the entry has none.
	Commit string
	// Same is one of the history* reasons above, or "".
	Same string
}

// historyRows decides which entries offer a rollback. The current entry is
// the newest successful sync of the revision the application runs;
// rolling back to it, to another sync of its commit, or to a commit that
// rendered the same manifests (same digest) would change nothing, so
// those get a note instead of a button.
func historyRows(app apiv1.Application, hs []apiv1.HistoryEntry) []historyRow {
	cur := currentEntry(app, hs)
	out := make([]historyRow, len(hs))
	for i, h := range hs {
		r := historyRow{HistoryEntry: h, Commit: commitOf(h)}
		switch {
		case cur < 0:
		case i == cur:
			r.Same = historyCurrent
		case r.Commit != "" && r.Commit == commitOf(hs[cur]):
			r.Same = historySameRevision
		case h.Digest != "" && h.Digest == hs[cur].Digest:
			r.Same = historySameDigest
		}
		out[i] = r
	}
	return out
}

// currentEntry is the index of the newest successful sync of the revision
// the application runs; without one (an older server's history, or the
// revision has left the bounded history) the newest successful sync; -1
// if there is none.
func currentEntry(app apiv1.Application, hs []apiv1.HistoryEntry) int {
	newest := -1
	for i, h := range hs {
		if h.Result != "Succeeded" {
			continue
		}
		if app.Revision != "" && h.Revision == app.Revision {
			return i
		}
		if newest < 0 {
			newest = i
		}
	}
	return newest
}
