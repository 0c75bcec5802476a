package seal

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"filippo.io/age"
)

// Key is one of the cluster's identities with the time it was made, which
// orders the ring: the newest key seals, every key unseals.
type Key struct {
	Identity *age.X25519Identity
	Created  time.Time
}

// Recipient is the public half.
func (k Key) Recipient() *age.X25519Recipient { return k.Identity.Recipient() }

// String shows the public key only, so a Key printed by mistake leaks
// nothing.
func (k Key) String() string { return k.Recipient().String() }

// GenerateKey makes a new X25519 identity created at now.
func GenerateKey(now time.Time) (Key, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return Key{}, fmt.Errorf("generate age key: %w", err)
	}
	return Key{Identity: id, Created: now.UTC().Truncate(time.Second)}, nil
}

// Ring is a set of keys, oldest first, without duplicates.
type Ring struct {
	keys []Key
}

// NewRing orders keys by creation time (then public key) and drops
// repeated identities, keeping the earliest creation time of each.
func NewRing(keys ...Key) Ring {
	var r Ring
	r.Add(keys...)
	return r
}

// Add merges keys into the ring and reports how many were new.
func (r *Ring) Add(keys ...Key) int {
	added := 0
	for _, k := range keys {
		if i := r.index(k); i >= 0 {
			if k.Created.Before(r.keys[i].Created) {
				r.keys[i].Created = k.Created
			}
			continue
		}
		r.keys = append(r.keys, k)
		added++
	}
	// Keys made in the same second (creation times are kept to the
	// second) are ordered by public key, so that every reader of the same
	// keys agrees on the newest, whatever order it read them in.
	sort.Slice(r.keys, func(i, j int) bool {
		a, b := r.keys[i], r.keys[j]
		if !a.Created.Equal(b.Created) {
			return a.Created.Before(b.Created)
		}
		return a.Recipient().String() < b.Recipient().String()
	})
	return added
}

func (r Ring) index(k Key) int {
	want := k.Identity.String()
	for i, have := range r.keys {
		if have.Identity.String() == want {
			return i
		}
	}
	return -1
}

// Len is the number of keys.
func (r Ring) Len() int { return len(r.keys) }

// Keys returns the keys, oldest first.
func (r Ring) Keys() []Key { return append([]Key(nil), r.keys...) }

// Newest is the key new values are sealed to; ok is false for an empty
// ring.
func (r Ring) Newest() (k Key, ok bool) {
	if len(r.keys) == 0 {
		return Key{}, false
	}
	return r.keys[len(r.keys)-1], true
}

// Identities are every key, newest first (the likeliest match first).
func (r Ring) Identities() []age.Identity {
	ids := make([]age.Identity, 0, len(r.keys))
	for i := len(r.keys) - 1; i >= 0; i-- {
		ids = append(ids, r.keys[i].Identity)
	}
	return ids
}

// Recipients are the public keys, oldest first.
func (r Ring) Recipients() []string {
	out := make([]string, len(r.keys))
	for i, k := range r.keys {
		out[i] = k.Recipient().String()
	}
	return out
}

// createdPrefix is the comment age-keygen writes above a key; the ring
// reads it back so restored keys keep their age.
const createdPrefix = "# created: "

// MarshalKey writes one key as age-keygen does: its creation time and
// public key as comments, then the secret key.
func MarshalKey(k Key) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s%s\n", createdPrefix, k.Created.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "# public key: %s\n", k.Recipient())
	fmt.Fprintf(&b, "%s\n", k.Identity)
	return b.Bytes()
}

// MarshalIdentities writes every key, oldest first, as one identity file
// that age -d -i and ParseKeys read.
func (r Ring) MarshalIdentities() []byte {
	var b bytes.Buffer
	for _, k := range r.keys {
		b.Write(MarshalKey(k))
	}
	return b.Bytes()
}

// maxIdentityFile bounds an identity file: a key with its comments takes
// about 200 bytes.
const maxIdentityFile = 1 << 20

// ParseKeys reads an identity file: AGE-SECRET-KEY-1… lines, blank lines
// and # comments. A "# created: RFC3339" comment dates the key after it;
// an undated key gets undated (zero time sorts it oldest, so it never
// displaces a dated key as the newest unless it is the only kind). The
// error names the line, never its content.
func ParseKeys(r io.Reader, undated time.Time) ([]Key, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxIdentityFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxIdentityFile {
		return nil, fmt.Errorf("identity file over %d bytes", maxIdentityFile)
	}
	var keys []Key
	var created time.Time
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxIdentityFile)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, createdPrefix):
			t, err := time.Parse(time.RFC3339, strings.TrimPrefix(line, createdPrefix))
			if err == nil {
				created = t.UTC()
			}
			continue
		case strings.HasPrefix(line, "#"):
			continue
		}
		id, err := age.ParseX25519Identity(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: not an age X25519 identity (AGE-SECRET-KEY-1…)", n)
		}
		when := created
		if when.IsZero() {
			when = undated
		}
		keys = append(keys, Key{Identity: id, Created: when})
		created = time.Time{}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, errors.New("no age identities found")
	}
	return keys, nil
}

// maxRecipientFile bounds a recipients file.
const maxRecipientFile = 64 << 10

// ParseRecipients reads a recipients file in age's -R format: one age1…
// X25519 recipient per line, blank lines and # comments. The error names
// the file's line and the text that is not a recipient (public keys are
// not secret). Duplicates are dropped; the order is kept.
func ParseRecipients(r io.Reader) ([]*age.X25519Recipient, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxRecipientFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxRecipientFile {
		return nil, fmt.Errorf("recipients file over %d bytes", maxRecipientFile)
	}
	var out []*age.X25519Recipient
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		rcpt, err := age.ParseX25519Recipient(line)
		if err != nil {
			shown := line
			if strings.HasPrefix(strings.ToUpper(line), "AGE-SECRET-KEY-") {
				shown = "AGE-SECRET-KEY-… (a secret key, not a recipient)"
			} else if len(shown) > 80 {
				shown = shown[:80] + "…"
			}
			return nil, fmt.Errorf("line %d: %q is not an age X25519 recipient (age1…)", n, shown)
		}
		if s := rcpt.String(); !seen[s] {
			seen[s] = true
			out = append(out, rcpt)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no age recipients found")
	}
	if len(out) > MaxStanzas {
		return nil, fmt.Errorf("%d recipients, the limit is %d", len(out), MaxStanzas)
	}
	return out, nil
}

// RecipientSet is the sorted, de-duplicated text of recipients: what a
// SealedSecret records, and what --reencrypt compares.
func RecipientSet(rs ...*age.X25519Recipient) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rs {
		if s := r.String(); !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// AgeRecipients converts for Seal.
func AgeRecipients(rs []*age.X25519Recipient) []age.Recipient {
	out := make([]age.Recipient, len(rs))
	for i, r := range rs {
		out[i] = r
	}
	return out
}
