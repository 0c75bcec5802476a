package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// ExitError carries a specific process exit code out of a command. Commands
// that need more than "0 or 1" (cruise diff: 1 drifted, 2 error) return it.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Run executes the cruise command line with args and returns the process exit
// code. Errors are printed once, here, to stderr.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := NewRootCommand(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	code := 1
	var ee *ExitError
	if errors.As(err, &ee) {
		code = ee.Code
		if ee.Err == nil {
			return code
		}
	}
	fmt.Fprintf(stderr, "Error: %v\n", err)
	return code
}

// NewRootCommand builds the cruise command tree.
func NewRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "cruise",
		Short: "GitOps continuous deployment for Kubernetes",
		Long: `cruise keeps Kubernetes clusters in step with Git repositories.

Commit to deploy; git revert to recover. The same engine runs in the cluster
as an operator (pull-based) and from CI pipelines as a command (push-based).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(
		newVersionCommand(),
		newDevCommand(),
		newBuildCommand(),
		newDiffCommand(),
		newApplyCommand(),
		newControllerCommand(),
		newAuthCommand(),
		newInstallCommand(),
		newUninstallCommand(),
		newGetCommand(),
		newCreateCommand(),
		newReconcileCommand(),
		newSuspendCommand(),
		newResumeCommand(),
		newTreeCommand(),
		newEventsCommand(),
		newDeleteCommand(),
		newServerCommand(),
		newLoginCommand(),
		newLogoutCommand(),
		newRollbackCommand(),
		newSealCommand(),
		newSecretsCommand(),
	)
	return root
}
