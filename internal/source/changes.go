package source

import (
	"context"
	"sort"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// ChangedPaths lists the paths (slash-separated, relative to the repository
// root, sorted) that differ between commits from and to of url: added,
// deleted and modified files, and both sides of a rename. The operator uses
// it to skip applications whose directories did not change.
//
// Both commits must already be in the cache, i.e. returned by an earlier
// Fetch of url (or present in a local repository); ChangedPaths never goes
// to the network. An empty from means "everything in to". A commit that is
// not there gives an error wrapping ErrRefNotFound.
func (f *Fetcher) ChangedPaths(ctx context.Context, url string, from, to string) ([]string, error) {
	loc, err := parseLocation(url)
	if err != nil {
		return nil, err
	}
	for _, sha := range []string{from, to} {
		if sha != "" && !isFullSHA(sha) {
			return nil, newError(ErrInvalid, nil, nil, "commit %q is not a full 40-hex SHA", sha)
		}
	}
	if to == "" {
		return nil, newError(ErrInvalid, nil, nil, "ChangedPaths of %s needs a commit to compare to", loc.display)
	}

	var repo *git.Repository
	if loc.kind == kindLocal {
		repo, err = openLocal(loc)
	} else {
		var unlock func()
		unlock, err = f.lock(ctx, loc)
		if err != nil {
			return nil, err
		}
		defer unlock()
		repo, err = f.openCache(loc, false)
	}
	if err != nil {
		return nil, err
	}

	toTree, err := commitTree(repo, to, loc)
	if err != nil {
		return nil, err
	}
	fromTree := &object.Tree{} // empty tree: every path of to is "added"
	if from != "" {
		if fromTree, err = commitTree(repo, from, loc); err != nil {
			return nil, err
		}
	}
	changes, err := object.DiffTreeWithOptions(ctx, fromTree, toTree, nil)
	if err != nil {
		return nil, newError(nil, err, nil, "cannot compare %s and %s in %s", shortSHA(from), shortSHA(to), loc.display)
	}
	seen := map[string]bool{}
	var paths []string
	for _, c := range changes {
		for _, name := range []string{c.From.Name, c.To.Name} {
			if name != "" && !seen[name] {
				seen[name] = true
				paths = append(paths, name)
			}
		}
	}
	sort.Strings(paths)
	return paths, nil
}

func commitTree(repo *git.Repository, sha string, loc *location) (*object.Tree, error) {
	commit, err := repo.CommitObject(plumbing.NewHash(sha))
	if err != nil {
		return nil, newError(ErrRefNotFound, nil, nil, "commit %s is not in the cache of %s (Fetch it first)", sha, loc.display)
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, newError(nil, err, nil, "cannot read tree of commit %s in %s", shortSHA(sha), loc.display)
	}
	return tree, nil
}
