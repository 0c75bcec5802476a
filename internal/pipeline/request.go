package pipeline

import (
	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/source"
)

// SourceRequest is what to fetch for repo: its URL and spec.ref (the
// remote's HEAD when there is none), with auth read from the Secret that
// spec.secretRef names (nil for none).
func SourceRequest(repo *v1alpha1.GitRepository, auth *source.Auth) source.Request {
	req := source.Request{URL: repo.Spec.URL, Auth: auth}
	if r := repo.Spec.Ref; r != nil {
		req.Ref = source.Ref{Branch: r.Branch, Tag: r.Tag, SemVer: r.SemVer, Commit: r.Commit}
	}
	return req
}
