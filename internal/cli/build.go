package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/cruisegitops/cruise/internal/helm"
	"github.com/cruisegitops/cruise/internal/render"
)

// BuildOptions configures `cruise build`.
type BuildOptions struct {
	// Source says what to render.
	Source SourceOptions
	// Namespace is a chart's release namespace; default "default".
	Namespace string
	// KubeVersion is the Kubernetes version a chart is rendered for;
	// default helm.DefaultKubeVersion.
	KubeVersion string
}

func newBuildCommand() *cobra.Command {
	opts := &BuildOptions{Source: defaultSourceOptions(), Namespace: "default", KubeVersion: helm.DefaultKubeVersion}
	cmd := &cobra.Command{
		Use:   "build (--source SRC [--ref REF] [--path P] | --chart CHART [--repo URL] [--version V]) [flags]",
		Short: "Print the manifests of a source as cruise renders them",
		Long: `Render a source exactly as ` + "`cruise apply`" + ` would and print the objects as one
YAML stream, each preceded by a "# Source:" comment naming its file. Nothing
is sent to a cluster.

SRC is a local directory (rendered in place), a local Git repository or a Git
URL; Git sources are fetched into --cache-dir. When --path holds Chart.yaml it
is a Helm chart; else when it holds a kustomization it is built; otherwise
every YAML and JSON file under it is read.

Helm charts come from Git (--path) or from a repository: --chart NAME --repo
URL for an HTTP(S) repository, --chart oci://HOST/PATH/NAME for an OCI
registry (--plain-http without TLS). --version is an exact version or a semver
range (">=6.12.0 <6.14.1", "^6", "~6.13"), the highest match winning; default
the newest stable version. Dependencies missing from the chart's charts/ are
fetched from the repositories Chart.yaml names (Chart.lock honoured).
--values FILE (repeatable, later files win) and --set K=V (repeatable, Helm's
syntax, wins over files) give values, as with helm. The release is named by
--release-name (default the chart's name) in --namespace (default
"default"), rendered for Kubernetes --kube-version with Helm's built-in API
versions; lookup finds nothing. The output holds exactly the objects
` + "`helm template --include-crds`" + ` prints: the chart's crds/ first, then the
templates, then the hooks (with their helm.sh/hook annotations), each after
"# Source: <chart>/templates/<file>" (or crds/<file>).

Git credentials come from files or the environment, never from flag values:
--username ($CRUISE_GIT_USERNAME), --password-file ($CRUISE_GIT_PASSWORD),
--token-file ($CRUISE_GIT_TOKEN), --ssh-key-file, --ssh-passphrase-file and
--known-hosts-file (default ~/.ssh/known_hosts). Chart repository credentials
likewise: --repo-username, --repo-password-file ($CRUISE_HELM_PASSWORD),
--repo-ca-file, --repo-cert-file and --repo-key-file; they are sent to the
repository of --chart only, never to another host a dependency names.
--max-file-size and --max-total-size bound a chart file and a chart archive
(and the chart unpacked) too.

Exit codes: 0 printed, 2 error (the message names the file, template, value,
ref or URL).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, err := opts.Source.load(cmd.Context(), nil, opts.chartEnv)
			if err != nil {
				return fail(2, decryptionHint(err, nil, "cruise build never decrypts: it would print the plaintext; cruise diff and apply decrypt with --age-identity or --decryption-secret"))
			}
			objs := src.Objects
			if src.Chart != nil {
				for _, h := range src.Chart.Hooks {
					objs = append(objs, h.Object)
				}
			}
			if err := render.WriteYAML(cmd.OutOrStdout(), objs); err != nil {
				return fail(2, err)
			}
			return nil
		},
	}
	cmd.SetFlagErrorFunc(flagError)
	fs := cmd.Flags()
	opts.Source.addFlags(fs)
	fs.StringVarP(&opts.Namespace, "namespace", "n", opts.Namespace, "release namespace of a chart (.Release.Namespace)")
	fs.StringVar(&opts.KubeVersion, "kube-version", opts.KubeVersion, "Kubernetes version a chart is rendered for (.Capabilities.KubeVersion)")
	return cmd
}

// chartEnv renders charts as `helm template` does: no cluster, a fresh
// install.
func (o *BuildOptions) chartEnv(context.Context) (*chartEnv, error) {
	if errs := validation.IsDNS1123Label(o.Namespace); len(errs) > 0 {
		return nil, fmt.Errorf("invalid --namespace %q: %s", o.Namespace, strings.Join(errs, "; "))
	}
	return &chartEnv{Namespace: o.Namespace, KubeVersion: o.KubeVersion}, nil
}
