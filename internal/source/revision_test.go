package source

import "testing"

func TestParseRevision(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name string
		in   string
		want Revision
		ok   bool
	}{
		{"branch", "main@sha1:" + sha, Revision{Ref: "main", Commit: sha}, true},
		{"branch with slashes", "feature/team/login@sha1:" + sha, Revision{Ref: "feature/team/login", Commit: sha}, true},
		{"branch with an @", "jane@fix@sha1:" + sha, Revision{Ref: "jane@fix", Commit: sha}, true},
		{"tag", "v1.2.0@sha1:" + sha, Revision{Ref: "v1.2.0", Commit: sha}, true},
		{"bare commit", "sha1:" + sha, Revision{Commit: sha}, true},

		{"empty", "", Revision{}, false},
		{"branch only", "main", Revision{}, false},
		{"bare SHA without sha1:", sha, Revision{}, false},
		{"no commit", "main@sha1:", Revision{}, false},
		{"short commit", "main@sha1:0123456", Revision{}, false},
		{"commit too long", "main@sha1:" + sha + "0", Revision{}, false},
		{"uppercase commit", "main@sha1:0123456789ABCDEF0123456789ABCDEF01234567", Revision{}, false},
		{"not hex", "main@sha1:0123456789abcdef0123456789abcdef0123456z", Revision{}, false},
		{"empty ref", "@sha1:" + sha, Revision{}, false},
		{"no @ before sha1:", "mainsha1:" + sha, Revision{}, false},
		{"ref holding a colon", "a:b@sha1:" + sha, Revision{}, false},
		{"two revisions", "sha1:" + sha + "@sha1:" + sha, Revision{}, false},
		{"other hash", "main@sha256:" + sha + sha[:24], Revision{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseRevision(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("ParseRevision(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
			if commit := RevisionCommit(tt.in); commit != tt.want.Commit {
				t.Errorf("RevisionCommit(%q) = %q, want %q", tt.in, commit, tt.want.Commit)
			}
			if ok && got.String() != tt.in {
				t.Errorf("String() = %q, want it to give back %q", got.String(), tt.in)
			}
		})
	}
}

func TestRevisionString(t *testing.T) {
	const sha = "fedcba9876543210fedcba9876543210fedcba98"
	tests := []struct {
		rev  Revision
		want string
	}{
		{Revision{Ref: "main", Commit: sha}, "main@sha1:" + sha},
		{Revision{Ref: "release/v2", Commit: sha}, "release/v2@sha1:" + sha},
		{Revision{Commit: sha}, "sha1:" + sha},
	}
	for _, tt := range tests {
		if got := tt.rev.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.rev, got, tt.want)
		}
	}
}
