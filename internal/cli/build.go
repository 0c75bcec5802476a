package cli

import (
	"github.com/spf13/cobra"

	"github.com/cruisegitops/cruise/internal/render"
)

// BuildOptions configures `cruise build`.
type BuildOptions struct {
	// Source says what to render.
	Source SourceOptions
}

func newBuildCommand() *cobra.Command {
	opts := &BuildOptions{Source: defaultSourceOptions()}
	cmd := &cobra.Command{
		Use:   "build --source SRC [--ref REF] [--path P]",
		Short: "Print the manifests of a source as cruise renders them",
		Long: `Render a source exactly as ` + "`cruise apply`" + ` would and print the objects as one
YAML stream, each preceded by a "# Source:" comment naming its file. Nothing
is sent to a cluster.

SRC is a local directory (rendered in place), a local Git repository or a Git
URL; Git sources are fetched into --cache-dir. When --path holds a
kustomization it is built; otherwise every YAML and JSON file under it is read.

Git credentials come from files or the environment, never from flag values:
--username ($CRUISE_GIT_USERNAME), --password-file ($CRUISE_GIT_PASSWORD),
--token-file ($CRUISE_GIT_TOKEN), --ssh-key-file, --ssh-passphrase-file and
--known-hosts-file (default ~/.ssh/known_hosts).

Exit codes: 0 printed, 2 error (the message names the file, ref or URL).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, err := opts.Source.load(cmd.Context(), nil)
			if err != nil {
				return fail(2, decryptionHint(err, nil, "cruise build never decrypts: it would print the plaintext; cruise diff and apply decrypt with --age-identity or --decryption-secret"))
			}
			if err := render.WriteYAML(cmd.OutOrStdout(), src.Objects); err != nil {
				return fail(2, err)
			}
			return nil
		},
	}
	cmd.SetFlagErrorFunc(flagError)
	opts.Source.addFlags(cmd.Flags())
	return cmd
}
