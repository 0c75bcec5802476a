package pipeline

import (
	"context"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/render"
)

// RenderOptions are the render options of app, whose GitRepository repo is
// checked out in dir: spec.path of the Application and spec.ignore of the
// repository; the size limits are render's defaults. repo may be nil (no
// ignore patterns). dec holds the keys of spec.decryption, read from the
// Secret DecryptionSecret names; nil decrypts nothing (a SOPS file then
// fails the render).
func RenderOptions(app *v1alpha1.Application, repo *v1alpha1.GitRepository, dir string, dec *render.Decryption) render.Options {
	o := render.Options{Root: dir, Path: app.Spec.Path, Decryption: dec}
	if repo != nil {
		o.Ignore = repo.Spec.Ignore
	}
	return o
}

// Render renders app from the checkout dir of its GitRepository repo,
// decrypting SOPS files with dec (see RenderOptions). The error is
// render's, which names the file; the caller adds the revision.
func Render(ctx context.Context, app *v1alpha1.Application, repo *v1alpha1.GitRepository, dir string, dec *render.Decryption) (render.Result, error) {
	return render.Render(ctx, RenderOptions(app, repo, dir, dec))
}
