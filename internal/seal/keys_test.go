package seal

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestRingOrderAndDuplicates(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, _ := GenerateKey(t0)
	b, _ := GenerateKey(t0.Add(time.Hour))
	c, _ := GenerateKey(t0.Add(2 * time.Hour))
	r := NewRing(c, a, b)
	if newest, _ := r.Newest(); newest.Identity.String() != c.Identity.String() {
		t.Fatalf("newest = %s, want %s", newest, c)
	}
	if got := r.Add(a, Key{Identity: b.Identity, Created: t0.Add(-time.Hour)}); got != 0 {
		t.Fatalf("Add of known keys added %d", got)
	}
	// A known key restored with an earlier date keeps the earlier one, so
	// it moves to the front.
	if first := r.Keys()[0]; first.Identity.String() != b.Identity.String() {
		t.Fatalf("oldest = %s, want %s", first, b)
	}
	if ids := r.Identities(); len(ids) != 3 {
		t.Fatalf("%d identities", len(ids))
	}
	if _, ok := (Ring{}).Newest(); ok {
		t.Fatal("empty ring has a newest key")
	}
}

func TestKeyFileRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a, _ := GenerateKey(t0)
	b, _ := GenerateKey(t0.Add(24 * time.Hour))
	file := NewRing(a, b).MarshalIdentities()
	keys, err := ParseKeys(bytes.NewReader(file), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || !keys[0].Created.Equal(t0) || !keys[1].Created.Equal(t0.Add(24*time.Hour)) ||
		keys[1].Identity.String() != b.Identity.String() {
		t.Fatalf("round trip = %v", keys)
	}
	if strings.Contains(a.String(), "SECRET") {
		t.Fatalf("Key.String shows the secret key: %s", a)
	}
}

func TestParseKeysRefuses(t *testing.T) {
	for name, in := range map[string]string{
		"empty":         "",
		"comments only": "# created: 2026-01-01T00:00:00Z\n",
		"recipient":     "age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq\n",
		"garbage":       "AGE-SECRET-KEY-1NOTAKEY\n",
		"too large":     strings.Repeat("#", maxIdentityFile+1),
	} {
		_, err := ParseKeys(strings.NewReader(in), time.Time{})
		if err == nil {
			t.Errorf("%s: ParseKeys succeeded", name)
		} else if strings.Contains(err.Error(), "NOTAKEY") {
			t.Errorf("%s: error shows the line: %v", name, err)
		}
	}
}

func TestParseRecipients(t *testing.T) {
	k := newKey(t)
	r := k.Recipient().String()
	got, err := ParseRecipients(strings.NewReader("# ops team\n\n" + r + "\n" + r + "\n"))
	if err != nil || len(got) != 1 || got[0].String() != r {
		t.Fatalf("ParseRecipients = %v, %v", got, err)
	}
	for name, tt := range map[string]struct{ in, wantInErr string }{
		"typo":       {r[:len(r)-1] + "x\n", "line 1"},
		"secret key": {k.Identity.String() + "\n", "a secret key, not a recipient"},
		"ssh key":    {"# x\nssh-ed25519 AAAAC3Nza\n", `line 2: "ssh-ed25519 AAAAC3Nza"`},
		"empty":      {"# nothing\n", "no age recipients"},
	} {
		_, err := ParseRecipients(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.wantInErr) {
			t.Errorf("%s: err %v, want it to say %q", name, err, tt.wantInErr)
		}
		if err != nil && strings.Contains(err.Error(), "AGE-SECRET-KEY-1") {
			t.Errorf("%s: error shows a secret key", name)
		}
	}
}

// TestAgeKeygenInterop reads what the age CLI users have writes: a key
// file from age-keygen, and its recipient from age-keygen -y.
func TestAgeKeygenInterop(t *testing.T) {
	keygen, err := exec.LookPath("age-keygen")
	if err != nil {
		t.Fatal("age-keygen not found: run make test-deps (installs Debian's age package)")
	}
	out, err := exec.Command(keygen).Output()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ParseKeys(bytes.NewReader(out), time.Time{})
	if err != nil || len(keys) != 1 || keys[0].Created.IsZero() {
		t.Fatalf("ParseKeys(age-keygen output) = %v, %v", keys, err)
	}
	cmd := exec.Command(keygen, "-y")
	cmd.Stdin = bytes.NewReader(out)
	pub, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := ParseRecipients(bytes.NewReader(pub))
	if err != nil || rs[0].String() != keys[0].Recipient().String() {
		t.Fatalf("recipient %v (%v), want %s", rs, err, keys[0].Recipient())
	}
}
