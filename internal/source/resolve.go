package source

import (
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
)

// refTable holds the refs a Ref can name. It is built from the remote's ref
// advertisement or from a local repository's references, so resolution is
// the same code for both.
type refTable struct {
	headBranch string // the branch HEAD points to; "" when detached or unknown
	head       plumbing.Hash
	branches   map[string]plumbing.Hash
	// tags maps a tag name to the ref's own hash: a tag object for
	// annotated tags, peeled after the objects are local.
	tags map[string]plumbing.Hash
}

func newRefTable(refs []*plumbing.Reference) *refTable {
	t := &refTable{branches: map[string]plumbing.Hash{}, tags: map[string]plumbing.Hash{}}
	var headRef *plumbing.Reference
	for _, r := range refs {
		name := r.Name()
		switch {
		case name == plumbing.HEAD:
			headRef = r
		case strings.HasSuffix(name.String(), "^{}"):
			// Peeled entries from the advertisement; we peel locally.
		case name.IsBranch() && r.Type() == plumbing.HashReference:
			t.branches[name.Short()] = r.Hash()
		case name.IsTag() && r.Type() == plumbing.HashReference:
			t.tags[strings.TrimPrefix(name.String(), "refs/tags/")] = r.Hash()
		}
	}
	if headRef == nil {
		return t
	}
	if headRef.Type() == plumbing.SymbolicReference {
		if target := headRef.Target(); target.IsBranch() {
			if h, ok := t.branches[target.Short()]; ok {
				t.headBranch, t.head = target.Short(), h
			}
		}
		return t
	}
	// Servers without the symref capability advertise HEAD as a bare hash;
	// guess its branch the way git clone does, preferring main and master.
	t.head = headRef.Hash()
	var candidates []string
	for name, h := range t.branches {
		if h == t.head {
			candidates = append(candidates, name)
		}
	}
	sort.Slice(candidates, func(i, j int) bool { return branchRank(candidates[i]) < branchRank(candidates[j]) })
	if len(candidates) > 0 {
		t.headBranch = candidates[0]
	}
	return t
}

// branchRank orders main and master first, the rest by name.
func branchRank(name string) string {
	switch name {
	case "main":
		return "0"
	case "master":
		return "1"
	}
	return "2" + name
}

// target is a Ref resolved against a refTable.
type target struct {
	// name is the branch or tag name shown in the revision; "" for a commit.
	name string
	// hash is what the ref points to: a commit or an annotated tag.
	hash plumbing.Hash
	// refSpecs fetch the ref into the cache clone when hash is missing.
	refSpecs []config.RefSpec
	// localRef is where refSpecs store the ref; "" when fetching a commit.
	localRef plumbing.ReferenceName
}

// revision is the Artifact revision of commit resolved from t.
func (t target) revision(commit string) string {
	return Revision{Ref: t.name, Commit: commit}.String()
}

func branchTarget(name string, h plumbing.Hash) target {
	dst := plumbing.NewRemoteReferenceName("origin", name)
	return target{
		name:     name,
		hash:     h,
		refSpecs: []config.RefSpec{config.RefSpec("+" + plumbing.NewBranchReferenceName(name).String() + ":" + dst.String())},
		localRef: dst,
	}
}

func tagTarget(name string, h plumbing.Hash) target {
	ref := plumbing.NewTagReferenceName(name)
	return target{
		name:     name,
		hash:     h,
		refSpecs: []config.RefSpec{config.RefSpec("+" + ref.String() + ":" + ref.String())},
		localRef: ref,
	}
}

// allRefSpecs fetch every branch and tag: what a commit SHA needs, since any
// of them may be the one it is reachable from.
func allRefSpecs() []config.RefSpec {
	return []config.RefSpec{
		"+refs/heads/*:refs/remotes/origin/*",
		"+refs/tags/*:refs/tags/*",
	}
}

// resolve finds ref in t. display names the repository in errors.
func (t *refTable) resolve(ref Ref, display string) (target, error) {
	notFound := func() error {
		return newError(ErrRefNotFound, nil, nil, "ref %q not found in %s", ref.String(), display)
	}
	switch {
	case ref.Branch != "":
		h, ok := t.branches[ref.Branch]
		if !ok {
			return target{}, notFound()
		}
		return branchTarget(ref.Branch, h), nil
	case ref.Tag != "":
		h, ok := t.tags[ref.Tag]
		if !ok {
			return target{}, notFound()
		}
		return tagTarget(ref.Tag, h), nil
	case ref.SemVer != "":
		name, ok, err := t.highestTag(ref.SemVer)
		if err != nil {
			return target{}, newError(ErrInvalid, err, nil, "invalid semver constraint %q", ref.SemVer)
		}
		if !ok {
			return target{}, newError(ErrRefNotFound, nil, nil, "no tag matches semver %q in %s", ref.SemVer, display)
		}
		return tagTarget(name, t.tags[name]), nil
	case ref.Name != "":
		bh, isBranch := t.branches[ref.Name]
		th, isTag := t.tags[ref.Name]
		switch {
		case isBranch && isTag:
			return target{}, newError(ErrInvalid, nil, nil, "ref %q is both a branch and a tag in %s; say branch:%s or tag:%s",
				ref.Name, display, ref.Name, ref.Name)
		case isBranch:
			return branchTarget(ref.Name, bh), nil
		case isTag:
			return tagTarget(ref.Name, th), nil
		}
		return target{}, notFound()
	case ref.Commit != "":
		return target{hash: plumbing.NewHash(ref.Commit), refSpecs: allRefSpecs()}, nil
	}
	if t.headBranch != "" {
		return branchTarget(t.headBranch, t.head), nil
	}
	if !t.head.IsZero() {
		return target{
			name:     "HEAD",
			hash:     t.head,
			refSpecs: []config.RefSpec{"+HEAD:refs/remotes/origin/HEAD"},
			localRef: "refs/remotes/origin/HEAD",
		}, nil
	}
	return target{}, newError(ErrRefNotFound, nil, nil, "repository %s has no HEAD (empty repository?)", display)
}

// highestTag returns the tag with the highest version satisfying the
// constraint. Tags that are not versions are ignored. When "v1.2.3" and
// "1.2.3" both exist the choice is made by name, so it is stable.
func (t *refTable) highestTag(constraint string) (string, bool, error) {
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return "", false, err
	}
	var best *semver.Version
	var bestName string
	for name := range t.tags {
		v, err := semver.NewVersion(name)
		if err != nil || !c.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(best) || (v.Equal(best) && name > bestName) {
			best, bestName = v, name
		}
	}
	return bestName, best != nil, nil
}
