package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
)

// keyMessageBytes is how much of a message the key reads. Status
// conditions keep 1,024 bytes of a message, so a key computed from a
// condition at start-up (see Dispatcher.Seed) equals one computed from the
// full error.
const keyMessageBytes = 1000

// volatile matches, in order, the parts of a message that change from one
// attempt to the next without the cause changing. Each is replaced by a
// placeholder; any digit left over becomes "#".
var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	// Timestamps: RFC 3339 and Go's time.Time.String().
	{regexp.MustCompile(`\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?( ?(Z|[+-]\d{2}:?\d{2}))?( [A-Z]{2,5})?( m=[+-][\d.]+)?`), "<time>"},
	// UIDs.
	{regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`), "<uid>"},
	// Go durations: 1m30s, 250ms, 1.5s, 2h0m0s.
	{regexp.MustCompile(`\b(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+\b`), "<duration>"},
	// The random suffix Kubernetes gives generated names (Pods of a
	// ReplicaSet or Job): five of its vowel-free alphabet.
	{regexp.MustCompile(`-[bcdfghjklmnpqrstvwxz2456789]{5}\b`), "-<rand>"},
	// Commit SHAs, digests, pod-template hashes: a run of 7 or more hex
	// digits with at least one digit.
	{regexp.MustCompile(`\b[0-9a-f]*[0-9][0-9a-f]*\b`), "<hex-or-number>"},
}

var (
	digits = regexp.MustCompile(`\d+`)
	spaces = regexp.MustCompile(`\s+`)
)

// Normalize strips what varies between retries of one failure from a
// message: timestamps, UIDs, durations, commit SHAs and other hex, and
// numbers (resourceVersions, counts, ports, line numbers), then folds
// white space. Two messages with the same normalized text describe the
// same cause.
func Normalize(msg string) string {
	if len(msg) > keyMessageBytes {
		msg = msg[:keyMessageBytes]
	}
	for _, v := range volatile[:4] {
		msg = v.re.ReplaceAllString(msg, v.with)
	}
	msg = volatile[4].re.ReplaceAllStringFunc(msg, func(s string) string {
		if len(s) >= 7 {
			return "<hex>"
		}
		return s // a short number: the digit rule below
	})
	msg = digits.ReplaceAllString(msg, "#")
	return strings.TrimSpace(spaces.ReplaceAllString(msg, " "))
}

// Key identifies an event's cause: its type, object, reason and
// normalized message. Retries of one failure have one key.
func Key(ev Event) string {
	h := sha256.New()
	for _, s := range []string{string(ev.Type), ev.Object.Kind, ev.Object.Namespace, ev.Object.Name, ev.Reason, Normalize(ev.Message)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
