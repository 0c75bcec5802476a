package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/cruisegitops/cruise/internal/apiclient"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// RollbackOptions configure `cruise rollback app NAME --to REVISION`.
type RollbackOptions struct {
	API APIOptions
	// Namespace of the Application; default "default".
	Namespace string
	// To is the commit to go back to: a SHA or a prefix of at least 7
	// hex digits.
	To string
}

// revisionPattern is a commit SHA (SHA-1 or SHA-256) or a prefix of one.
var revisionPattern = regexp.MustCompile(`^[0-9a-fA-F]{7,64}$`)

func newRollbackCommand() *cobra.Command {
	o := &RollbackOptions{}
	cmd := verbCommand("rollback app NAME --to REVISION", "Roll an Application back to an earlier revision by a commit in Git",
		`Roll an Application back to an earlier revision the GitOps way: the cruise
server pushes a commit to the source's branch that returns the Application's
files to what they were at REVISION (a SHA, or a prefix of at least 7 hex
digits, from cruise's history of the Application), and the controller
deploys it like any other commit. Nothing is changed in the cluster directly.

Rollback works through the cruise server's API: log in first (cruise login
SERVER) or name the server with --server.

Exit codes:
  0  rolled back, or already at REVISION
  1  the revert conflicts with later commits to the same files (listed)
  2  error: bad flags, not logged in, no such Application or revision`)
	cmd.PersistentFlags().StringVar(&o.API.Server, "server", "", "the cruise server to work through (default the current one of cruise login)")
	cmd.PersistentFlags().StringVarP(&o.Namespace, "namespace", "n", "", "namespace of the Application (default \"default\")")
	cmd.PersistentFlags().StringVar(&o.To, "to", "", "the revision (commit SHA) to roll back to")
	cmd.AddCommand(kindCommand(kindApplication, "Roll an Application back to an earlier revision", func(cmd *cobra.Command, _ kind, name string) error {
		return runRollback(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o, name)
	}))
	return cmd
}

// validate checks the flags before any request is made.
func (o *RollbackOptions) validate() error {
	if o.To == "" {
		return errors.New("--to REVISION is required: the commit SHA to roll back to (see the Application's history)")
	}
	if !revisionPattern.MatchString(o.To) {
		return fmt.Errorf("invalid --to %q: want a commit SHA, or a prefix of at least 7 hex digits", o.To)
	}
	if o.Namespace != "" {
		if errs := validation.IsDNS1123Label(o.Namespace); len(errs) > 0 {
			return fmt.Errorf("invalid --namespace %q: %s", o.Namespace, strings.Join(errs, "; "))
		}
	}
	return nil
}

func runRollback(ctx context.Context, out, errOut io.Writer, o *RollbackOptions, name string) error {
	if err := o.validate(); err != nil {
		return fail(2, err)
	}
	s, err := o.API.session(ctx, nil)
	if err != nil {
		return err
	}
	if s == nil {
		return fail(2, errors.New("cruise rollback works through a cruise server: log in first (cruise login SERVER) or pass --server"))
	}
	ns := o.Namespace
	if ns == "" {
		ns = "default"
	}
	res, err := s.client.Rollback(ctx, ns, name, strings.ToLower(o.To))
	var ae *apiclient.Error
	if errors.As(err, &ae) && ae.API.Code == apiv1.CodeConflict {
		if len(ae.API.Files) > 0 {
			fmt.Fprintln(errOut, "The revert conflicts with later commits to these files:")
			for _, f := range ae.API.Files {
				fmt.Fprintln(errOut, "  "+f)
			}
		}
		return fail(1, err)
	}
	if err != nil {
		return s.fail(err)
	}
	target := res.Target
	if target == "" {
		target = o.To
	}
	if res.NoOp {
		fmt.Fprintf(out, "%s/%s is already at %s: nothing to push\n", ns, name, shortSHA(target))
		return nil
	}
	files := "files"
	if len(res.Changed) == 1 {
		files = "file"
	}
	fmt.Fprintf(out, "Rolled back %s/%s to %s: pushed commit %s on %s (%d %s)\n",
		ns, name, shortSHA(target), shortSHA(res.Commit), res.Branch, len(res.Changed), files)
	return nil
}

// shortSHA shortens a full commit SHA to 12 digits, as shortRevision does.
func shortSHA(sha string) string {
	if len(sha) > 12 && revisionPattern.MatchString(sha) {
		return sha[:12]
	}
	return sha
}
