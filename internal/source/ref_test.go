package source

import (
	"strings"
	"testing"
)

func TestParseRef(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		in      string
		want    Ref
		wantErr string
	}{
		{in: "", want: Ref{}},
		{in: "HEAD", want: Ref{}},
		{in: "branch:main", want: Ref{Branch: "main"}},
		{in: "branch:refs/heads/feature/x", want: Ref{Branch: "feature/x"}},
		{in: "tag:v1", want: Ref{Tag: "v1"}},
		{in: "tag:refs/tags/v1.2.3", want: Ref{Tag: "v1.2.3"}},
		{in: "semver:>=1 <2", want: Ref{SemVer: ">=1 <2"}},
		{in: "commit:" + sha, want: Ref{Commit: sha}},
		{in: "commit:" + strings.ToUpper(sha), want: Ref{Commit: sha}},
		{in: sha, want: Ref{Commit: sha}},
		{in: "main", want: Ref{Name: "main"}},
		{in: "release/1.x", want: Ref{Name: "release/1.x"}},
		{in: "0123abc", want: Ref{Name: "0123abc"}}, // short SHAs are names
		{in: "branch:", wantErr: `ref "branch:" names no branch`},
		{in: "semver:", wantErr: "names no semver"},
		{in: "foo:bar", wantErr: "invalid ref name"},
		{in: "branch:a..b", wantErr: "invalid branch name"},
		{in: "tag:has space", wantErr: "invalid tag name"},
		{in: "-rf", wantErr: "invalid ref name"},
		{in: "semver:not a range", wantErr: "invalid semver constraint"},
		{in: "commit:abc123", wantErr: "not a full 40-hex SHA"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseRef(tc.in)
			if tc.wantErr != "" {
				wantErr(t, err, ErrInvalid, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("ParseRef(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
			// String is the inverse of ParseRef.
			back, err := ParseRef(got.String())
			if err != nil || back != got {
				t.Errorf("ParseRef(%q.String() = %q) = %+v, %v", tc.in, got.String(), back, err)
			}
		})
	}
}

func TestRefValidateMoreThanOne(t *testing.T) {
	err := Ref{Branch: "main", Tag: "v1"}.Validate()
	wantErr(t, err, ErrInvalid, "more than one")
}
