package cli

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/examples"
	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/devcluster"
)

// startDevController runs `cruise controller` (this very binary) as part
// of the local control plane, so `cruise dev down` stops it too.
func startDevController(c *devcluster.Cluster, dir, exe string) error {
	exe, err := devBinary(exe)
	if err != nil {
		return err
	}
	return c.Spawn("cruise-controller", exe, []string{
		"controller",
		"--kubeconfig", c.Kubeconfig,
		"--metrics-addr", "0",
		"--health-addr", "0",
		"--cache-dir", filepath.Join(dir, "git-cache"),
	})
}

// devBinary is the cruise binary that runs the local processes: exe, or
// this one.
func devBinary(exe string) (string, error) {
	var err error
	if exe == "" {
		if exe, err = os.Executable(); err != nil {
			return "", fmt.Errorf("find the cruise binary: %w", err)
		}
	}
	if exe, err = filepath.Abs(exe); err != nil {
		return "", fmt.Errorf("find the cruise binary: %w", err)
	}
	// /proc shows the resolved path; keep it comparable for dev down.
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return "", fmt.Errorf("find the cruise binary: %w", err)
	}
	return exe, nil
}

// installCRDs applies cruise's CustomResourceDefinitions and waits until
// they are served.
func installCRDs(ctx context.Context, c *devcluster.Cluster) error {
	cfg, err := c.RESTConfig()
	if err != nil {
		return err
	}
	crds, err := renderConfig(ctx, "config/crd")
	if err != nil {
		return err
	}
	eng, err := apply.NewEngine(cfg, apply.EngineOptions{})
	if err != nil {
		return err
	}
	if _, err := eng.Apply(ctx, crds, apply.ApplyOptions{WaitTimeout: time.Minute}); err != nil {
		return fmt.Errorf("install CRDs: %w", err)
	}
	return nil
}

// deployExample puts the guestbook example in a local
// Git repository under dir and points a GitRepository and an Application
// at it, then waits until the Application is Ready.
func deployExample(ctx context.Context, out io.Writer, c *devcluster.Cluster, dir string) error {
	repoDir := filepath.Join(dir, "example")
	if err := writeExampleRepo(repoDir); err != nil {
		return err
	}
	k, err := (&KubeOptions{Kubeconfig: c.Kubeconfig, RequestTimeout: 30 * time.Second}).connect()
	if err != nil {
		return err
	}
	objs := []client.Object{
		&cruisev1.GitRepository{
			ObjectMeta: metav1.ObjectMeta{Name: "example", Namespace: "default"},
			Spec: cruisev1.GitRepositorySpec{
				URL: "file://" + repoDir, Interval: metav1.Duration{Duration: 10 * time.Second},
			},
		},
		&cruisev1.Application{
			ObjectMeta: metav1.ObjectMeta{Name: "guestbook", Namespace: "default"},
			Spec: cruisev1.ApplicationSpec{
				SourceRef: cruisev1.SourceReference{Kind: cruisev1.GitRepositoryKind, Name: "example"},
				Path:      ".", Prune: true, Interval: metav1.Duration{Duration: 10 * time.Minute},
			},
		},
	}
	for _, o := range objs {
		if err := k.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create %T %s: %w", o, o.GetName(), err)
		}
	}
	fmt.Fprintf(out, "Deploying the guestbook example from the Git repository %s ...\n", repoDir)
	deadline := time.Now().Add(3 * time.Minute)
	app := &cruisev1.Application{}
	for {
		if err := k.Get(ctx, client.ObjectKey{Namespace: "default", Name: "guestbook"}, app); err != nil {
			return err
		}
		s := statusOf(app)
		if s.readyStatus() == "True" {
			fmt.Fprintf(out, "Application default/guestbook is Ready: %s\n", s.readyMessage())
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("example Application default/guestbook not Ready after 3m: %s", s.readyMessage())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// writeExampleRepo creates a Git repository holding the guestbook example
// and commits it, unless the repository exists already.
func writeExampleRepo(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
		return nil
	}
	sub, err := fs.Sub(examples.FS, "guestbook")
	if err != nil {
		return err
	}
	if err := os.CopyFS(dir, sub); err != nil {
		return fmt.Errorf("write example: %w", err)
	}
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		return fmt.Errorf("init example repository: %w", err)
	}
	// Rollbacks from the web UI push to this checked-out branch; let the
	// push update the working tree too, as a developer would expect.
	cfg, err := repo.Config()
	if err != nil {
		return err
	}
	cfg.Raw.Section("receive").SetOption("denyCurrentBranch", "updateInstead")
	if err := repo.SetConfig(cfg); err != nil {
		return fmt.Errorf("configure example repository: %w", err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return err
	}
	if err := wt.AddGlob("."); err != nil {
		return fmt.Errorf("add example files: %w", err)
	}
	sig := &object.Signature{Name: "cruise dev", Email: "dev@cruise.invalid", When: time.Now()}
	if _, err := wt.Commit("Add the guestbook example", &git.CommitOptions{Author: sig}); err != nil {
		return fmt.Errorf("commit example: %w", err)
	}
	return nil
}
