package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"

	"github.com/cruisegitops/cruise/internal/chartrepo"
	"github.com/cruisegitops/cruise/internal/helm"
)

// EnvHelmPassword is where the chart repository password comes from when
// --repo-password-file is not given.
const EnvHelmPassword = "CRUISE_HELM_PASSWORD"

// ChartOptions say which Helm chart to deploy from a repository and with
// which values; build, diff and apply share them. A chart in Git is named
// by --source and --path instead, and takes the values flags only.
type ChartOptions struct {
	// Chart is the chart's name in Repo, or its full OCI reference
	// "oci://host/path/name" without Repo.
	Chart string
	// Repo is an HTTP(S) chart repository (the URL of its index.yaml's
	// directory).
	Repo string
	// Version is an exact version or a Helm semver range; empty means the
	// newest stable version.
	Version string
	// PlainHTTP talks to an OCI registry without TLS.
	PlainHTTP bool
	// RepoUsername is the basic-auth user of the repository.
	RepoUsername string
	// RepoPasswordFile holds the password; default $CRUISE_HELM_PASSWORD.
	RepoPasswordFile string
	// RepoCAFile holds extra CA certificates (PEM) the repository's
	// certificate may chain to.
	RepoCAFile string
	// RepoCertFile and RepoKeyFile are a TLS client certificate and key.
	RepoCertFile, RepoKeyFile string
	// ValuesFiles are layered in order, later files winning, as helm -f.
	ValuesFiles []string
	// Set are Helm --set expressions, applied after ValuesFiles.
	Set []string
	// ReleaseName is .Release.Name; default --name (for build, the
	// chart's name).
	ReleaseName string
}

func (o *ChartOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Chart, "chart", o.Chart, "Helm chart to deploy instead of --source: its name in --repo, or oci://HOST/PATH/NAME")
	fs.StringVar(&o.Repo, "repo", o.Repo, "HTTP(S) Helm chart repository holding --chart")
	fs.StringVar(&o.Version, "version", o.Version, `chart version: exact, or a semver range (">=6.12.0 <6.14.1", "^6", "~6.13"); default the newest stable`)
	fs.BoolVar(&o.PlainHTTP, "plain-http", o.PlainHTTP, "reach the OCI registry of --chart without TLS")
	fs.StringVar(&o.RepoUsername, "repo-username", o.RepoUsername, "user name for the chart repository's basic auth")
	fs.StringVar(&o.RepoPasswordFile, "repo-password-file", o.RepoPasswordFile, "file holding the chart repository's password (default $"+EnvHelmPassword+")")
	fs.StringVar(&o.RepoCAFile, "repo-ca-file", o.RepoCAFile, "file of PEM CA certificates to trust for the chart repository")
	fs.StringVar(&o.RepoCertFile, "repo-cert-file", o.RepoCertFile, "file holding a PEM TLS client certificate for the chart repository")
	fs.StringVar(&o.RepoKeyFile, "repo-key-file", o.RepoKeyFile, "file holding the PEM key of --repo-cert-file")
	fs.StringArrayVar(&o.ValuesFiles, "values", o.ValuesFiles, "chart values file (repeatable; later files win, as helm -f)")
	fs.StringArrayVar(&o.Set, "set", o.Set, "chart value in Helm's --set syntax, K=V (repeatable; wins over --values)")
	fs.StringVar(&o.ReleaseName, "release-name", o.ReleaseName, "Helm release name of the chart (default --name; for build, the chart's name)")
}

// fromRepo says whether the chart comes from a repository.
func (o *ChartOptions) fromRepo() bool { return o.Chart != "" }

// validate checks the chart flags against each other and against
// --source (hasSource).
func (o *ChartOptions) validate(hasSource bool) error {
	repoFlags := []struct {
		flag string
		set  bool
	}{
		{"--repo", o.Repo != ""},
		{"--version", o.Version != ""},
		{"--plain-http", o.PlainHTTP},
		{"--repo-username", o.RepoUsername != ""},
		{"--repo-password-file", o.RepoPasswordFile != ""},
		{"--repo-ca-file", o.RepoCAFile != ""},
		{"--repo-cert-file", o.RepoCertFile != ""},
		{"--repo-key-file", o.RepoKeyFile != ""},
	}
	switch {
	case o.Chart != "" && hasSource:
		return errors.New("--chart and --source exclude each other: a chart comes from a repository (--chart) or from Git (--source with --path to the directory holding Chart.yaml)")
	case o.Chart == "":
		for _, f := range repoFlags {
			if f.set {
				return fmt.Errorf("%s is for a chart from a repository and needs --chart (a chart in Git is pinned by --ref)", f.flag)
			}
		}
	case strings.HasPrefix(o.Chart, "oci://"):
		if o.Repo != "" {
			return fmt.Errorf("--chart %s is a full OCI reference: leave out --repo", o.Chart)
		}
	case strings.Contains(o.Chart, "://"):
		return fmt.Errorf("--chart %s: give the chart's name with --repo URL, or an oci:// reference", redactURL(o.Chart))
	case o.Repo == "":
		return fmt.Errorf("--chart %s needs --repo URL (or give --chart as oci://HOST/PATH/NAME)", o.Chart)
	}
	if (o.RepoCertFile == "") != (o.RepoKeyFile == "") {
		return errors.New("--repo-cert-file and --repo-key-file go together")
	}
	if o.RepoPasswordFile != "" && o.RepoUsername == "" {
		return errors.New("--repo-password-file needs --repo-username")
	}
	if o.ReleaseName != "" {
		if errs := validation.IsDNS1123Subdomain(o.ReleaseName); len(errs) > 0 || len(o.ReleaseName) > 53 {
			return fmt.Errorf("invalid --release-name %q: Helm release names are DNS subdomain names of at most 53 characters", o.ReleaseName)
		}
	}
	return nil
}

// valuesGiven names the first values flag given, empty when none is: a
// source that is not a chart must not silently ignore them.
func (o *ChartOptions) valuesGiven() string {
	switch {
	case len(o.ValuesFiles) > 0:
		return "--values"
	case len(o.Set) > 0:
		return "--set"
	case o.ReleaseName != "":
		return "--release-name"
	}
	return ""
}

// display names the chart in messages: "oci://host/charts/web" or
// "https://charts.example.com chart web".
func (o *ChartOptions) display() string {
	if o.Repo == "" {
		return redactURL(o.Chart)
	}
	return redactURL(o.Repo) + " chart " + o.Chart
}

// auth gathers the repository credentials from files and the environment.
// Errors name the flag and file, never a content.
func (o *ChartOptions) auth() (chartrepo.Auth, error) {
	a := chartrepo.Auth{Username: o.RepoUsername, PlainHTTP: o.PlainHTTP}
	if a.Username != "" {
		var err error
		if a.Password, err = secretFrom("--repo-password-file", o.RepoPasswordFile, EnvHelmPassword); err != nil {
			return a, err
		}
	}
	for _, f := range []struct {
		flag, path string
		to         *[]byte
	}{
		{"--repo-ca-file", o.RepoCAFile, &a.CAPEM},
		{"--repo-cert-file", o.RepoCertFile, &a.CertPEM},
		{"--repo-key-file", o.RepoKeyFile, &a.KeyPEM},
	} {
		if f.path == "" {
			continue
		}
		b, err := readFlagFile(f.flag, f.path)
		if err != nil {
			return a, err
		}
		*f.to = b
	}
	return a, nil
}

// values layers --values files and --set expressions.
func (o *ChartOptions) values() (*helm.Values, error) {
	vals := &helm.Values{}
	for _, f := range o.ValuesFiles {
		data, err := readFlagFile("--values", f)
		if err != nil {
			return nil, err
		}
		if err := vals.AddFile(f, data); err != nil {
			return nil, err
		}
	}
	for _, s := range o.Set {
		if err := vals.Set(s); err != nil {
			// Helm's parser quotes the expression, values included: name
			// the keys only, a value may be a secret.
			return nil, fmt.Errorf("--set %s: %w: not Helm's --set syntax (KEY=VALUE, a.b=VALUE, list[0]=VALUE, comma-separated)", setKeys(s), helm.ErrInvalidValues)
		}
	}
	return vals, nil
}

// setKeys is a --set expression without its values.
func setKeys(expr string) string {
	parts := strings.Split(expr, ",")
	for i, p := range parts {
		if k, _, ok := strings.Cut(p, "="); ok {
			parts[i] = k + "=…"
		}
	}
	return strings.Join(parts, ",")
}

// chartEnv is what rendering a chart takes from the command rather than
// from the chart: the release and the cluster it is for.
type chartEnv struct {
	// ReleaseName is the default release name (--name); empty means the
	// chart's name. --release-name wins over it.
	ReleaseName string
	// Namespace is the release namespace.
	Namespace string
	// KubeVersion and APIVersions are .Capabilities (see helm.Options).
	KubeVersion string
	APIVersions []string
	// Lookup is the identity `lookup` reads the cluster as; nil for build.
	Lookup *rest.Config
	// Upgrade: the release was applied before under this name.
	Upgrade bool
	// Generated holds the values kept from the last apply.
	Generated *helm.Generated
}

// chartEnvFunc gives the chartEnv once the source turns out to be a chart,
// so that a plain source never costs the cluster queries it needs.
type chartEnvFunc func(ctx context.Context) (*chartEnv, error)

// chartRelease is a rendered chart and how it was rendered.
type chartRelease struct {
	*helm.Release
	// ReleaseName and Namespace are the release's.
	ReleaseName, Namespace string
	// Env is what it was rendered with.
	Env *chartEnv
}

// helmLimits are the chart size limits of the source flags.
func (o *SourceOptions) helmLimits() helm.Limits {
	return helm.Limits{MaxFileBytes: int64(o.MaxFileSize), MaxChartBytes: int64(o.MaxTotalSize)}
}

// chartClient is a repository client bounded by the source flags' limits.
func (o *SourceOptions) chartClient() *chartrepo.Client {
	return chartrepo.NewClient(chartrepo.Options{
		MaxArchiveBytes: int64(o.MaxTotalSize),
		MaxChartBytes:   int64(o.MaxTotalSize),
		CacheBytes:      -1,
		IndexTTL:        -1,
	})
}

// loadRepoChart fetches --chart and renders it; the revision is
// "<version>@sha256:<digest of the archive>".
func (o *SourceOptions) loadRepoChart(ctx context.Context, env chartEnvFunc) (*rendered, error) {
	c := &o.Chart
	auth, err := c.auth()
	if err != nil {
		return nil, err
	}
	client := o.chartClient()
	arch, err := client.Fetch(ctx, chartrepo.Request{RepoURL: c.Repo, Chart: c.Chart, Version: c.Version, Auth: auth})
	if err != nil {
		return nil, chartFetchError(err, "")
	}
	ch, err := helm.LoadArchive(arch.Name+"-"+arch.Version+".tgz", arch.Data)
	if err != nil {
		return nil, sizeHint(err)
	}
	return o.renderChart(ctx, ch, arch.Revision(), client, repoCreds(c.Repo, c.Chart, auth), env)
}

// loadGitChart renders the chart in the directory --path of the checkout
// root; the revision is the Git revision.
func (o *SourceOptions) loadGitChart(ctx context.Context, root, revision string, env chartEnvFunc) (*rendered, error) {
	rel := filepath.ToSlash(o.Path)
	ch, _, err := helm.LoadDir(root, rel, o.helmLimits())
	if err != nil {
		return nil, sizeHint(err)
	}
	// Dependencies a chart in Git names without vendoring them are
	// fetched anonymously: the --repo-* credentials are for --chart's
	// repository and go nowhere a chart names.
	return o.renderChart(ctx, ch, revision, o.chartClient(), nil, env)
}

func (o *SourceOptions) renderChart(ctx context.Context, ch *chart.Chart, revision string, client *chartrepo.Client, creds func(string) (chartrepo.Auth, error), env chartEnvFunc) (*rendered, error) {
	if err := client.FetchDependencies(ctx, ch, creds); err != nil {
		return nil, chartFetchError(err, "dependency of chart "+ch.Name()+": ")
	}
	vals, err := o.Chart.values()
	if err != nil {
		return nil, err
	}
	e, err := env(ctx)
	if err != nil {
		return nil, err
	}
	name := o.Chart.ReleaseName
	if name == "" {
		name = e.ReleaseName
	}
	if name == "" {
		name = ch.Name()
	}
	rel, err := helm.Render(ctx, ch, helm.Options{
		ReleaseName: name,
		Namespace:   e.Namespace,
		Values:      vals.Map(),
		Upgrade:     e.Upgrade,
		KubeVersion: e.KubeVersion,
		APIVersions: e.APIVersions,
		Lookup:      e.Lookup,
		Generated:   e.Generated,
	})
	if err != nil {
		return nil, err
	}
	return &rendered{
		Revision: revision,
		Objects:  rel.AllObjects(),
		Chart:    &chartRelease{Release: rel, ReleaseName: name, Namespace: e.Namespace, Env: e},
	}, nil
}

// repoCreds gives the credentials of --chart's repository to dependencies
// in the same repository (scheme and host), and nothing to the others: a
// chart must not be able to send them to a host of its choosing.
func repoCreds(repo, chartRef string, auth chartrepo.Auth) func(string) (chartrepo.Auth, error) {
	if repo == "" {
		repo = chartRef
	}
	home := origin(repo)
	return func(depRepo string) (chartrepo.Auth, error) {
		if home != "" && origin(depRepo) == home {
			return auth, nil
		}
		return chartrepo.Auth{}, nil
	}
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// chartFetchError adds which flags help to a repository error.
func chartFetchError(err error, prefix string) error {
	switch {
	case errors.Is(err, chartrepo.ErrUnauthorized):
		return fmt.Errorf("%s%w (check --repo-username, --repo-password-file or $%s, --repo-cert-file)", prefix, err, EnvHelmPassword)
	case errors.Is(err, chartrepo.ErrInvalid) && strings.Contains(err.Error(), " over "):
		return fmt.Errorf("%s%w (see --max-total-size)", prefix, err)
	}
	if prefix != "" {
		return fmt.Errorf("%s%w", prefix, err)
	}
	return err
}

func sizeHint(err error) error {
	if errors.Is(err, helm.ErrTooLarge) {
		return fmt.Errorf("%w (see --max-file-size and --max-total-size)", err)
	}
	return err
}
