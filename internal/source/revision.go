package source

import "strings"

// Revision is a fetched commit as cruise records it: in a GitRepository's
// artifact, an Application's last applied and attempted revisions and its
// history. Its text form is "<ref>@sha1:<commit>", or "sha1:<commit>" when
// the commit was asked for by SHA; [ParseRevision] reads it back.
type Revision struct {
	// Ref is the branch or tag name the commit was resolved from; empty when
	// a commit was asked for.
	Ref string
	// Commit is the commit's full SHA-1, 40 lowercase hex digits.
	Commit string
}

// revisionHash introduces the commit in a revision's text form.
const revisionHash = "sha1:"

// String is the text form: "main@sha1:<commit>" or "sha1:<commit>".
func (r Revision) String() string {
	if r.Ref == "" {
		return revisionHash + r.Commit
	}
	return r.Ref + "@" + revisionHash + r.Commit
}

// ParseRevision reads the text form of a Revision. ok is false when s is
// not one: no "sha1:", a commit that is not 40 lowercase hex digits, or
// anything before "sha1:" that is not "<ref>@" with a non-empty ref.
//
// Git forbids ':' in ref names, so "@sha1:" cannot occur inside the ref,
// which may itself hold '/' and '@' (feature/a, user@fix).
func ParseRevision(s string) (Revision, bool) {
	i := strings.LastIndex(s, revisionHash)
	if i < 0 {
		return Revision{}, false
	}
	r := Revision{Commit: s[i+len(revisionHash):]}
	if !isFullSHA(r.Commit) || strings.ToLower(r.Commit) != r.Commit { // cruise writes lowercase
		return Revision{}, false
	}
	if i == 0 {
		return r, true
	}
	ref, ok := strings.CutSuffix(s[:i], "@")
	if !ok || ref == "" || strings.Contains(ref, ":") {
		return Revision{}, false
	}
	r.Ref = ref
	return r, true
}

// RevisionCommit is the commit of the revision s; "" when s is not one.
func RevisionCommit(s string) string {
	r, _ := ParseRevision(s)
	return r.Commit
}
