package notify

import (
	"fmt"
	"sort"
	"strings"
)

// subjectName is how a subject names an object: "ns/name" for an
// Application, "Kind ns/name" for the rest.
func subjectName(o ObjectRef) string {
	if o.Kind == "Application" || o.Kind == "" {
		return o.Namespace + "/" + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

// DefaultSubject is the subject of a message without a template:
//
//	[cruise] team-a/web failed: RenderFailed
//	[cruise] team-a/web recovered
//	[cruise] team-a/web degraded: HealthCheckFailed
//	[cruise] team-a/web synced main@1a2b3c4d5e6f
//	[cruise] team-a/web reverted drift
//	[cruise] team-a/web rolled back: main@1a2b3c4d5e6f
//	[cruise] ImageUpdateAutomation team-a/images pushed main@1a2b3c4d5e6f
//	[cruise] 240 events in team-a: 238 Failed, 2 Recovered
func DefaultSubject(ev Event) string {
	name := subjectName(ev.Object)
	switch ev.Type {
	case Failed:
		return fmt.Sprintf("[cruise] %s failed: %s", name, ev.Reason)
	case HealthDegraded:
		return fmt.Sprintf("[cruise] %s degraded: %s", name, ev.Reason)
	case Recovered:
		return fmt.Sprintf("[cruise] %s recovered", name)
	case Synced:
		return fmt.Sprintf("[cruise] %s synced %s", name, ShortRevision(ev.Revision))
	case DriftReverted:
		return fmt.Sprintf("[cruise] %s reverted drift", name)
	case RolledBack:
		return fmt.Sprintf("[cruise] %s rolled back: %s", name, ShortRevision(ev.Revision))
	case ImageUpdated:
		return fmt.Sprintf("[cruise] %s pushed %s", name, ShortRevision(ev.Revision))
	case Digest:
		return fmt.Sprintf("[cruise] %d events in %s: %s", len(ev.Events), ev.Object.Namespace, countTypes(ev.Events))
	}
	return fmt.Sprintf("[cruise] %s: %s", name, ev.Type)
}

// DefaultBody is the body of a message without a template: what happened
// (the message names the object and file that failed), the revision in
// full, the commit, the objects, and the links to cruise server.
func DefaultBody(ev Event) string {
	var b strings.Builder
	if ev.Type == Digest {
		digestBody(&b, ev)
		return b.String()
	}
	fmt.Fprintf(&b, "%s %s", ev.Object, headline(ev))
	if ev.Reason != "" && ev.Type != Synced && ev.Type != Recovered {
		fmt.Fprintf(&b, " (%s)", ev.Reason)
	}
	b.WriteString("\n")
	if ev.Message != "" {
		fmt.Fprintf(&b, "\n%s\n", ev.Message)
	}
	b.WriteString("\n")
	field := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-10s %s\n", k+":", v)
		}
	}
	field("Revision", ev.Revision)
	if c := ev.Commit; c != nil {
		commit := c.SHA
		if len(commit) > 12 {
			commit = commit[:12]
		}
		if c.Subject != "" {
			commit += " " + fmt.Sprintf("%q", c.Subject)
		}
		if c.Author != "" {
			commit += " by " + c.Author
		}
		field("Commit", commit)
	}
	for i, o := range ev.Objects {
		if i == 20 {
			field("", fmt.Sprintf("and %d more", len(ev.Objects)-i))
			break
		}
		if i == 0 {
			field(objectsLabel(ev.Type), o)
		} else {
			fmt.Fprintf(&b, "%-10s %s\n", "", o)
		}
	}
	field("Time", ev.Time.UTC().Format("2006-01-02 15:04:05 MST"))
	if ev.URL != "" {
		b.WriteString("\n")
		field("Open", ev.URL)
		field("Diff", DiffURL(ev))
		if ev.Type.IsFailure() {
			field("Rollback", RollbackURL(ev))
		}
	}
	return b.String()
}

func headline(ev Event) string {
	switch ev.Type {
	case Failed:
		return "failed"
	case HealthDegraded:
		return "is not healthy"
	case Recovered:
		return "recovered"
	case Synced:
		return "synced a new revision"
	case DriftReverted:
		return "reverted changes made outside Git"
	case RolledBack:
		return "deployed a rollback"
	case ImageUpdated:
		return "pushed image updates"
	}
	return string(ev.Type)
}

func objectsLabel(t EventType) string {
	switch t {
	case Failed, HealthDegraded:
		return "Failing"
	case Synced, DriftReverted, RolledBack:
		return "Changed"
	case ImageUpdated:
		return "Updated"
	}
	return "Objects"
}

// maxDigestLines bounds the events a digest's body lists; the payload
// carries them all.
const maxDigestLines = 100

// digestBody lists a digest's events, one line each.
func digestBody(b *strings.Builder, ev Event) {
	fmt.Fprintf(b, "%d events in namespace %s (%s) arrived faster than they are sent one by one:\n\n",
		len(ev.Events), ev.Object.Namespace, countTypes(ev.Events))
	for i, e := range ev.Events {
		if i == maxDigestLines {
			fmt.Fprintf(b, "- and %d more\n", len(ev.Events)-i)
			break
		}
		line := fmt.Sprintf("- %s %s", e.Type, e.Object)
		if e.Reason != "" {
			line += ": " + e.Reason
		}
		if e.Message != "" {
			line += ": " + truncate(200, oneLine(e.Message))
		}
		b.WriteString(line + "\n")
	}
	if ev.Message != "" {
		fmt.Fprintf(b, "\n%s\n", ev.Message)
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// countTypes summarises events by type: "238 Failed, 2 Recovered".
func countTypes(events []Event) string {
	counts := map[EventType]int{}
	for _, e := range events {
		counts[e.Type]++
	}
	types := make([]string, 0, len(counts))
	for t := range counts {
		types = append(types, string(t))
	}
	sort.Slice(types, func(i, j int) bool {
		a, b := counts[EventType(types[i])], counts[EventType(types[j])]
		if a != b {
			return a > b
		}
		return types[i] < types[j]
	})
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = fmt.Sprintf("%d %s", counts[EventType(t)], t)
	}
	return strings.Join(parts, ", ")
}
