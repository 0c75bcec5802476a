package password

import (
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	p := Params{MemoryKiB: 1024, Time: 1, Threads: 1}
	h, err := Hash("correct horse", p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("hash %q is not an argon2id PHC string", h)
	}
	h2, _ := Hash("correct horse", p)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	for _, tc := range []struct {
		pw, hash string
		want     bool
		wantErr  bool
	}{
		{"correct horse", h, true, false},
		{"correct horsE", h, false, false},
		{"", h, false, false},
		{"x", "$2a$10$bcrypt", false, true},
		{"x", "$argon2id$v=19$m=1024,t=1,p=1$!!$!!", false, true},
	} {
		got, err := Verify(tc.pw, tc.hash)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("Verify(%q, %q) = %v, %v; want %v, error %v", tc.pw, tc.hash, got, err, tc.want, tc.wantErr)
		}
	}
}
