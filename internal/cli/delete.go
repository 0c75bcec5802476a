package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
)

// DeleteOptions configures `cruise delete app|source NAME`.
type DeleteOptions struct {
	Kube KubeOptions
	// Yes deletes without asking, also on a terminal.
	Yes bool
}

func newDeleteCommand() *cobra.Command {
	opts := &DeleteOptions{Kube: defaultKubeOptions()}
	cmd := verbCommand("delete (app|source|image KIND) NAME", "Delete an object",
		`Delete an Application, a GitRepository or an image automation object
(image repository|policy|update).

On a terminal the command asks first, unless --yes is given; when its input or
output is not a terminal (scripts, CI) it deletes without asking.

Deleting an Application with spec.prune (the default) makes the controller
delete the objects it applied before the Application disappears; with prune
off they stay in the cluster. Deleting a GitRepository leaves the
Applications that use it, which then report SourceNotFound.`)
	opts.Kube.addFlags(cmd.PersistentFlags())
	cmd.PersistentFlags().BoolVarP(&opts.Yes, "yes", "y", opts.Yes, "do not ask for confirmation")
	cmd.PersistentFlags().BoolVarP(&opts.Yes, "silent", "s", opts.Yes, "do not ask for confirmation (as Flux's CLI)")
	_ = cmd.PersistentFlags().MarkHidden("silent")
	run := func(cmd *cobra.Command, k kind, name string) error {
		return runDelete(cmd.Context(), cmd.OutOrStdout(), opts, k, name)
	}
	cmd.AddCommand(kindCommand(kindApplication, "Delete an Application", run),
		kindCommand(kindGitRepository, "Delete a GitRepository", run),
		imageKindCommand("Delete an image automation object", map[kind]string{
			kindImageRepository:       "Delete an ImageRepository",
			kindImagePolicy:           "Delete an ImagePolicy",
			kindImageUpdateAutomation: "Delete an ImageUpdateAutomation",
		}, run))
	return cmd
}

func runDelete(ctx context.Context, out io.Writer, o *DeleteOptions, k kind, name string) error {
	kc, err := o.Kube.connect()
	if err != nil {
		return err
	}
	obj := k.newObject()
	if err := kc.Get(ctx, client.ObjectKey{Namespace: kc.namespace, Name: name}, obj); err != nil {
		return apiError(err, k, kc.namespace, name)
	}
	ref := objectRef(k, kc.namespace, name)
	if !o.Yes && canAsk(out) {
		question := "Delete " + ref + "?"
		if app, ok := obj.(*v1alpha1.Application); ok && app.Spec.Prune {
			question = "Delete " + ref + " and prune the objects it applied?"
		}
		ok, err := askYesNo(out, os.Stdin, question)
		if err != nil {
			return fail(2, err)
		}
		if !ok {
			fmt.Fprintln(out, "nothing deleted")
			return nil
		}
	}
	uid := obj.GetUID() // not a namesake created since the Get
	err = kc.Delete(ctx, obj, client.Preconditions{UID: &uid})
	if err != nil && !apierrors.IsNotFound(err) {
		return apiError(err, k, kc.namespace, name)
	}
	fmt.Fprintf(out, "✓ %s deleted\n", ref)
	return nil
}

// canAsk reports whether both stdin and out are terminals, so that a
// question can be asked and answered.
func canAsk(out io.Writer) bool {
	_, tty := terminalWidth(out)
	return tty && term.IsTerminal(int(os.Stdin.Fd()))
}

// askYesNo asks question on out and reads a yes or no from in.
func askYesNo(out io.Writer, in io.Reader, question string) (bool, error) {
	fmt.Fprintf(out, "%s [y/N] ", question)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("read answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}
