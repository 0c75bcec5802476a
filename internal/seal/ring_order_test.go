package seal

import (
	"testing"
	"time"
)

// TestRingNewestIgnoresReadOrder: keys made in the same second (creation
// times keep seconds only) give the same newest key whatever order they
// are read in; the keys Secret is a map, read in random order.
func TestRingNewestIgnoresReadOrder(t *testing.T) {
	now := time.Now()
	a, err := GenerateKey(now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateKey(now)
	if err != nil {
		t.Fatal(err)
	}
	ab, _ := NewRing(a, b).Newest()
	ba, _ := NewRing(b, a).Newest()
	if ab.String() != ba.String() {
		t.Errorf("newest of (a, b) is %s, of (b, a) %s", ab, ba)
	}
}
