package notify

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// chatMessage is what every chat type shows of a Message, before each
// shapes it into its own JSON: the title is the subject, the body the
// rendered body, the link the object in cruise server, the fields the
// revision, reason, commit and objects.
type chatMessage struct {
	Title  string
	Body   string
	Link   string
	Fields []chatField
	// Color is "#rrggbb": red for errors, green for a good outcome,
	// amber for something cruise put back, blue otherwise.
	Color string
	// Footer names the object and the event type.
	Footer string
}

type chatField struct {
	Name  string
	Value string
	// Short fields may sit side by side.
	Short bool
}

// Colors by outcome.
const (
	colorError   = "#E01E5A"
	colorGood    = "#2EB67D"
	colorWarning = "#ECB22E"
	colorInfo    = "#1D9BD1"
)

// maxListedObjects bounds the objects a chat message lists by name.
const maxListedObjects = 10

// chatMessageOf extracts what chat types show of m.
func chatMessageOf(m Message) chatMessage {
	e := m.Event
	c := chatMessage{
		Title:  flattenSpace(m.Subject),
		Body:   strings.TrimSpace(m.Body),
		Link:   e.URL,
		Color:  eventColor(e),
		Footer: strings.TrimSpace(fmt.Sprintf("%s/%s/%s · %s", e.Object.Kind, e.Object.Namespace, e.Object.Name, e.Type)),
	}
	if c.Title == "" {
		c.Title = fmt.Sprintf("[cruise] %s/%s %s", e.Object.Namespace, e.Object.Name, e.Type)
	}
	if c.Body == "" {
		c.Body = strings.TrimSpace(e.Message)
	}
	if e.Revision != "" {
		c.Fields = append(c.Fields, chatField{Name: "Revision", Value: e.Revision, Short: true})
	}
	if e.Reason != "" {
		c.Fields = append(c.Fields, chatField{Name: "Reason", Value: e.Reason, Short: true})
	}
	if e.Commit != nil && e.Commit.SHA != "" {
		v := shortSHA(e.Commit.SHA)
		if e.Commit.Subject != "" {
			v += " " + flattenSpace(e.Commit.Subject)
		}
		if e.Commit.Author != "" {
			v += " (" + flattenSpace(e.Commit.Author) + ")"
		}
		c.Fields = append(c.Fields, chatField{Name: "Commit", Value: v})
	}
	if len(e.Objects) > 0 {
		c.Fields = append(c.Fields, chatField{Name: "Objects", Value: listObjects(e.Objects)})
	}
	if len(e.Events) > 0 {
		c.Fields = append(c.Fields, chatField{Name: "Events", Value: strconv.Itoa(len(e.Events)), Short: true})
	}
	return c
}

// eventColor colours an event by its outcome.
func eventColor(e Event) string {
	switch {
	case e.Severity == SeverityError || e.Type == Failed || e.Type == HealthDegraded:
		return colorError
	case e.Type == Synced || e.Type == Recovered:
		return colorGood
	case e.Type == DriftReverted || e.Type == RolledBack:
		return colorWarning
	default:
		return colorInfo
	}
}

// listObjects names the first objects one per line and counts the rest.
func listObjects(objects []string) string {
	n := min(len(objects), maxListedObjects)
	s := strings.Join(objects[:n], "\n")
	if rest := len(objects) - n; rest > 0 {
		s += fmt.Sprintf("\n… and %d more", rest)
	}
	return s
}

// shortSHA is the first 12 hex digits of a commit, enough to be unique.
func shortSHA(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// flattenSpace collapses runs of white space, newlines included, into one
// space: titles and headers are single lines everywhere.
func flattenSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// colorInt is "#rrggbb" as the integer Discord wants.
func colorInt(hex string) int {
	v, err := strconv.ParseInt(strings.TrimPrefix(hex, "#"), 16, 32)
	if err != nil {
		return 0
	}
	return int(v)
}

// fitJSON encodes the payload build makes of body cut to bodyLimit runes,
// cutting further until the encoding is at most maxBytes: services count
// bytes of the whole payload, and JSON escaping and multi-byte runes make
// a body's encoded size hard to tell in advance. It searches for the
// longest body that fits, to within 1%. The other parts of a payload are
// bounded by their own limits, so an empty body always fits in practice;
// if not, the receiver's 4xx says so.
func fitJSON(maxBytes int, body string, bodyLimit int, build func(body string) any) (json.RawMessage, error) {
	encode := func(n int) (json.RawMessage, error) { return json.Marshal(build(cutRunes(body, n))) }
	hi := min(bodyLimit, utf8.RuneCountInString(body))
	data, err := encode(hi)
	if err != nil || len(data) <= maxBytes {
		return data, err
	}
	lo := 0
	best, err := encode(lo)
	if err != nil || len(best) > maxBytes {
		return best, err
	}
	// Invariant: a body of lo runes fits, one of hi does not.
	for hi-lo > max(8, hi/100) {
		mid := lo + (hi-lo)/2
		data, err := encode(mid)
		if err != nil {
			return nil, err
		}
		if len(data) <= maxBytes {
			lo, best = mid, data
		} else {
			hi = mid
		}
	}
	return best, nil
}
