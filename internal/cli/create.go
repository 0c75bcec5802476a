package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/cruisegitops/cruise/api/v1alpha1"
)

// CreateSourceOptions configures `cruise create source git NAME`.
type CreateSourceOptions struct {
	Kube KubeOptions
	// URL of the repository (https://, ssh://, git@host:path, file://).
	// Required.
	URL string
	// At most one of Branch, Tag, SemVer and Commit; none follows the
	// remote's default branch.
	Branch, Tag, SemVer, Commit string
	// Interval between fetches; default 1m.
	Interval time.Duration
	// Timeout of one fetch; 0 leaves the server's default (60s).
	Timeout time.Duration
	// SecretRef names the Secret with the credentials.
	SecretRef string
	// Ignore holds extra gitignore-style patterns.
	Ignore string
	// AccessFrom lists namespaces whose Applications may use the
	// repository ("*" for all).
	AccessFrom []string
	// Export prints the object as YAML instead of applying it.
	Export bool
}

// CreateAppOptions configures `cruise create app NAME`.
type CreateAppOptions struct {
	Kube KubeOptions
	// Source is the GitRepository, "[NAMESPACE/]NAME". Required.
	Source string
	// Path inside the repository; default ".".
	Path string
	// Interval of full resyncs; default 10m.
	Interval time.Duration
	// RetryInterval after a failure; 0 leaves the server's default.
	RetryInterval time.Duration
	// Timeout of one sync; 0 leaves the server's default (5m).
	Timeout time.Duration
	// Prune, SelfHeal and Wait are the spec fields of the same names; all
	// default to true.
	Prune, SelfHeal, Wait bool
	// TargetNamespace puts every namespaced object into this namespace.
	TargetNamespace string
	// ServiceAccount to impersonate.
	ServiceAccount string
	// DependsOn lists Applications, "[NAMESPACE/]NAME", that must be Ready
	// first.
	DependsOn []string
	// Export prints the object as YAML instead of applying it.
	Export bool
	// Chart deploys a chart from a Helm repository or OCI registry
	// instead of a GitRepository path; see ChartRepo and the rest.
	Chart string
	// ChartRepo is the repository URL (https:// or oci://).
	ChartRepo string
	// ChartVersion is exact or a semver range; empty: the newest stable.
	ChartVersion string
	// ChartSecret names the Secret with the repository's credentials.
	ChartSecret string
	// PlainHTTP talks to an OCI registry without TLS.
	PlainHTTP bool
	// ReleaseName is spec.helm.releaseName.
	ReleaseName string
	// ValuesFrom lists "ConfigMap/NAME[:KEY]" or "Secret/NAME[:KEY]".
	ValuesFrom []string
}

func newCreateCommand() *cobra.Command {
	cmd := verbCommand("create (source git|app|image KIND) NAME", "Create or update a GitRepository, an Application or an image automation object",
		`Create a GitRepository (source), an Application (app), an ImageRepository
(image repository), an ImagePolicy (image policy) or an ImageUpdateAutomation
(image update), or update it when it exists. The object is sent with server-side apply (field manager "cruise-cli"),
so running the same command again with other flags updates it, and fields the
flags no longer set return to their defaults.

--export prints the object as YAML instead, for committing to Git; it needs no
cluster.

Examples:
  cruise create source git web --url https://github.com/org/web --branch main
  cruise create app web --source web --path deploy/prod --target-namespace web
  cruise create app web --source infra/web --path deploy --export > web.yaml
  cruise create image repository web --image ghcr.io/org/web
  cruise create image policy web --image-ref web --select-semver ">=1.0.0 <2.0.0"
  cruise create image update web --source web --path deploy \
      --author-name cruise --author-email cruise@example.com`)
	src := &cobra.Command{
		Use:   "source",
		Short: "Create or update a source: source git NAME",
		Args:  cobra.ArbitraryArgs,
		// The flags of "source git" given without "git" get the hint below
		// rather than "unknown flag".
		FParseErrWhitelist: cobra.FParseErrWhitelist{UnknownFlags: true},
		RunE: func(cmd *cobra.Command, args []string) error {
			return fail(2, fmt.Errorf("%s: say which kind of source: git (cruise create source git NAME --url URL)", cmd.CommandPath()))
		},
	}
	src.AddCommand(newCreateSourceGitCommand())
	cmd.AddCommand(src, newCreateAppCommand(), newCreateImageCommand())
	return cmd
}

func newCreateSourceGitCommand() *cobra.Command {
	opts := &CreateSourceOptions{Kube: defaultKubeOptions(), Interval: time.Minute}
	cmd := &cobra.Command{
		Use:     "git NAME --url URL [--branch B|--tag T|--semver R|--commit SHA]",
		Short:   "Create or update a GitRepository",
		Aliases: []string{"gitrepository"},
		Args:    kindArgs(kindGitRepository),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCreate(cmd.Context(), cmd.OutOrStdout(), &opts.Kube, opts.Export, kindGitRepository,
				func(ns string) (client.Object, error) { return opts.object(ns, args[0]) })
		},
	}
	fs := cmd.Flags()
	opts.Kube.addFlags(fs)
	fs.StringVar(&opts.URL, "url", opts.URL, "repository URL: https://, ssh://, git@host:path or file:// (required)")
	fs.StringVar(&opts.Branch, "branch", opts.Branch, "branch to follow (default the remote's default branch)")
	fs.StringVar(&opts.Tag, "tag", opts.Tag, "tag to check out")
	fs.StringVar(&opts.SemVer, "semver", opts.SemVer, `semver range over the tags, e.g. ">=1.2.0 <2.0.0"; the highest match wins`)
	fs.StringVar(&opts.Commit, "commit", opts.Commit, "commit SHA (40 hex digits) to check out")
	fs.DurationVar(&opts.Interval, "interval", opts.Interval, "time between fetches")
	fs.DurationVar(&opts.Timeout, "timeout", opts.Timeout, "time limit of one fetch (default the server's, 60s)")
	fs.StringVar(&opts.SecretRef, "secret-ref", opts.SecretRef, "Secret in the same namespace with the Git credentials")
	fs.StringVar(&opts.Ignore, "ignore", opts.Ignore, "extra gitignore-style patterns of files no Application sees")
	fs.StringSliceVar(&opts.AccessFrom, "access-from", opts.AccessFrom, `namespaces whose Applications may use this repository ("*" for all)`)
	fs.BoolVar(&opts.Export, "export", opts.Export, "print the object as YAML instead of creating it")
	cmd.SetFlagErrorFunc(flagError)
	return cmd
}

func newCreateAppCommand() *cobra.Command {
	opts := &CreateAppOptions{Kube: defaultKubeOptions(), Path: ".", Interval: 10 * time.Minute,
		Prune: true, SelfHeal: true, Wait: true}
	cmd := &cobra.Command{
		Use:     "app NAME (--source [NAMESPACE/]NAME [--path P] | --chart NAME --repo URL [--version V])",
		Short:   "Create or update an Application",
		Aliases: []string{"application"},
		Args:    kindArgs(kindApplication),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCreate(cmd.Context(), cmd.OutOrStdout(), &opts.Kube, opts.Export, kindApplication,
				func(ns string) (client.Object, error) { return opts.object(ns, args[0]) })
		},
	}
	fs := cmd.Flags()
	opts.Kube.addFlags(fs)
	fs.StringVar(&opts.Source, "source", opts.Source, "GitRepository to deploy from, [NAMESPACE/]NAME (required)")
	fs.StringVar(&opts.Path, "path", opts.Path, "path inside the repository: a kustomization or a directory of manifests")
	fs.DurationVar(&opts.Interval, "interval", opts.Interval, "time between full resyncs (drift is corrected in between)")
	fs.DurationVar(&opts.RetryInterval, "retry-interval", opts.RetryInterval, "time before retrying a failed sync (default the server's: interval/5, at least 10s)")
	fs.DurationVar(&opts.Timeout, "timeout", opts.Timeout, "time limit of one sync, health wait included (default the server's, 5m)")
	fs.BoolVar(&opts.Prune, "prune", opts.Prune, "delete objects removed from Git")
	fs.BoolVar(&opts.SelfHeal, "self-heal", opts.SelfHeal, "revert changes made in the cluster that Git does not describe")
	fs.BoolVar(&opts.Wait, "wait", opts.Wait, "count the Application Ready only once its objects are healthy")
	fs.StringVar(&opts.TargetNamespace, "target-namespace", opts.TargetNamespace, "put every namespaced object into this namespace")
	fs.StringVar(&opts.ServiceAccount, "service-account", opts.ServiceAccount, "ServiceAccount in the Application's namespace to make every change as")
	fs.StringSliceVar(&opts.DependsOn, "depends-on", opts.DependsOn, "Applications, [NAMESPACE/]NAME, that must be Ready first (repeat or separate with commas)")
	fs.BoolVar(&opts.Export, "export", opts.Export, "print the object as YAML instead of creating it")
	fs.StringVar(&opts.Chart, "chart", opts.Chart, "deploy this chart from --repo instead of a GitRepository path")
	fs.StringVar(&opts.ChartRepo, "repo", opts.ChartRepo, "chart repository: https://… (index.yaml) or oci://host/path")
	fs.StringVar(&opts.ChartVersion, "version", opts.ChartVersion, `chart version, exact or a range (">=6.12.0 <7", "^6"); default the newest stable`)
	fs.StringVar(&opts.ChartSecret, "chart-secret", opts.ChartSecret, "Secret with the repository's credentials (username/password, bearerToken, tls.crt/tls.key, ca.crt)")
	fs.BoolVar(&opts.PlainHTTP, "plain-http", opts.PlainHTTP, "talk to the OCI registry without TLS")
	fs.StringVar(&opts.ReleaseName, "release-name", opts.ReleaseName, "Helm release name (default the Application's name)")
	fs.StringArrayVar(&opts.ValuesFrom, "values-from", opts.ValuesFrom, "chart values from ConfigMap/NAME[:KEY] or Secret/NAME[:KEY] (repeatable; key default values.yaml)")
	cmd.SetFlagErrorFunc(flagError)
	return cmd
}

var commitSHAPattern = regexp.MustCompile(`^[0-9a-f]{40}$`)

// object builds the GitRepository, or says which flag is wrong.
func (o *CreateSourceOptions) object(namespace, name string) (*v1alpha1.GitRepository, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	switch {
	case o.URL == "":
		return nil, errors.New("--url is required")
	case !hasAnyPrefix(o.URL, "https://", "http://", "ssh://", "git@", "file://"):
		return nil, fmt.Errorf("invalid --url %q: want https://, http://, ssh://, git@host:path or file://", redactURL(o.URL))
	case o.Interval <= 0:
		return nil, fmt.Errorf("invalid --interval %s: must be positive", o.Interval)
	case o.Timeout < 0:
		return nil, fmt.Errorf("invalid --timeout %s: must not be negative", o.Timeout)
	}
	var refs []string
	for _, r := range []struct{ flag, value string }{
		{"--branch", o.Branch}, {"--tag", o.Tag}, {"--semver", o.SemVer}, {"--commit", o.Commit},
	} {
		if r.value != "" {
			refs = append(refs, r.flag)
		}
	}
	if len(refs) > 1 {
		return nil, fmt.Errorf("%s cannot be combined: give at most one of --branch, --tag, --semver and --commit", strings.Join(refs, " and "))
	}
	if o.Commit != "" && !commitSHAPattern.MatchString(o.Commit) {
		return nil, fmt.Errorf("invalid --commit %q: want a full SHA of 40 lowercase hex digits", o.Commit)
	}
	if o.SemVer != "" {
		if _, err := semver.NewConstraint(o.SemVer); err != nil {
			return nil, fmt.Errorf("invalid --semver %q: %w", o.SemVer, err)
		}
	}
	repo := &v1alpha1.GitRepository{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: v1alpha1.GitRepositoryKind},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: v1alpha1.GitRepositorySpec{
			URL:      o.URL,
			Interval: metav1.Duration{Duration: o.Interval},
			Ignore:   o.Ignore,
		},
	}
	if len(refs) == 1 {
		repo.Spec.Ref = &v1alpha1.GitRef{Branch: o.Branch, Tag: o.Tag, SemVer: o.SemVer, Commit: o.Commit}
	}
	if o.Timeout > 0 {
		repo.Spec.Timeout = &metav1.Duration{Duration: o.Timeout}
	}
	if o.SecretRef != "" {
		if errs := validation.IsDNS1123Subdomain(o.SecretRef); len(errs) > 0 {
			return nil, fmt.Errorf("invalid --secret-ref %q: %s", o.SecretRef, strings.Join(errs, "; "))
		}
		repo.Spec.SecretRef = &v1alpha1.LocalObjectReference{Name: o.SecretRef}
	}
	if len(o.AccessFrom) > 0 {
		for _, ns := range o.AccessFrom {
			if errs := validation.IsDNS1123Label(ns); ns != "*" && len(errs) > 0 {
				return nil, fmt.Errorf("invalid --access-from namespace %q: %s", ns, strings.Join(errs, "; "))
			}
		}
		repo.Spec.AccessFrom = &v1alpha1.AccessFrom{Namespaces: o.AccessFrom}
	}
	return repo, nil
}

// object builds the Application, or says which flag is wrong.
func (o *CreateAppOptions) object(namespace, name string) (*v1alpha1.Application, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	switch {
	case o.Interval <= 0:
		return nil, fmt.Errorf("invalid --interval %s: must be positive", o.Interval)
	case o.RetryInterval < 0:
		return nil, fmt.Errorf("invalid --retry-interval %s: must not be negative", o.RetryInterval)
	case o.Timeout < 0:
		return nil, fmt.Errorf("invalid --timeout %s: must not be negative", o.Timeout)
	}
	app := &v1alpha1.Application{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: v1alpha1.ApplicationKind},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: v1alpha1.ApplicationSpec{
			Interval: metav1.Duration{Duration: o.Interval},
			Prune:    o.Prune,
			SelfHeal: &o.SelfHeal,
			Wait:     &o.Wait,
		},
	}
	if err := o.deploysFrom(&app.Spec); err != nil {
		return nil, err
	}
	if o.RetryInterval > 0 {
		app.Spec.RetryInterval = &metav1.Duration{Duration: o.RetryInterval}
	}
	if o.Timeout > 0 {
		app.Spec.Timeout = &metav1.Duration{Duration: o.Timeout}
	}
	if o.TargetNamespace != "" {
		if errs := validation.IsDNS1123Label(o.TargetNamespace); len(errs) > 0 {
			return nil, fmt.Errorf("invalid --target-namespace %q: %s", o.TargetNamespace, strings.Join(errs, "; "))
		}
		app.Spec.TargetNamespace = o.TargetNamespace
	}
	if o.ServiceAccount != "" {
		if errs := validation.IsDNS1123Subdomain(o.ServiceAccount); len(errs) > 0 {
			return nil, fmt.Errorf("invalid --service-account %q: %s", o.ServiceAccount, strings.Join(errs, "; "))
		}
		app.Spec.ServiceAccountName = o.ServiceAccount
	}
	for _, d := range o.DependsOn {
		ns, n, err := parseNamespacedName("--depends-on", d)
		if err != nil {
			return nil, err
		}
		app.Spec.DependsOn = append(app.Spec.DependsOn, v1alpha1.DependencyReference{Namespace: ns, Name: n})
	}
	return app, o.helmSettings(app)
}

// deploysFrom fills what the Application deploys: a repository chart
// (--chart, --repo, ...) or a GitRepository path (--source, --path).
func (o *CreateAppOptions) deploysFrom(spec *v1alpha1.ApplicationSpec) error {
	if o.Chart == "" {
		if o.ChartRepo != "" || o.ChartVersion != "" || o.ChartSecret != "" || o.PlainHTTP {
			return errors.New("--repo, --version, --chart-secret and --plain-http go with --chart")
		}
		srcNS, srcName, err := requiredRef("--source", o.Source, "the GitRepository to deploy from, [NAMESPACE/]NAME (or --chart with --repo)")
		if err != nil {
			return err
		}
		if o.Path == "" {
			return errors.New(`invalid --path "": use "." for the repository's root`)
		}
		spec.SourceRef = v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: srcName, Namespace: srcNS}
		spec.Path = o.Path
		return nil
	}
	if o.Source != "" {
		return errors.New("--chart and --source exclude each other: an Application deploys a repository chart or a GitRepository path")
	}
	if !strings.HasPrefix(o.ChartRepo, "https://") && !strings.HasPrefix(o.ChartRepo, "http://") && !strings.HasPrefix(o.ChartRepo, "oci://") {
		return fmt.Errorf("invalid --repo %q: an https:// chart repository or an oci:// registry path is required with --chart", o.ChartRepo)
	}
	spec.Chart = &v1alpha1.ChartSource{RepoURL: o.ChartRepo, Name: o.Chart, Version: o.ChartVersion, PlainHTTP: o.PlainHTTP}
	if o.ChartSecret != "" {
		spec.Chart.SecretRef = &v1alpha1.LocalObjectReference{Name: o.ChartSecret}
	}
	return nil
}

// helmSettings fills spec.helm from --release-name and --values-from.
func (o *CreateAppOptions) helmSettings(app *v1alpha1.Application) error {
	if o.ReleaseName == "" && len(o.ValuesFrom) == 0 {
		return nil
	}
	h := &v1alpha1.HelmSettings{ReleaseName: o.ReleaseName}
	for _, v := range o.ValuesFrom {
		kind, rest, ok := strings.Cut(v, "/")
		name, key, _ := strings.Cut(rest, ":")
		if !ok || (kind != "ConfigMap" && kind != "Secret") || name == "" {
			return fmt.Errorf("invalid --values-from %q: want ConfigMap/NAME[:KEY] or Secret/NAME[:KEY]", v)
		}
		h.ValuesFrom = append(h.ValuesFrom, v1alpha1.ValuesReference{Kind: kind, Name: name, Key: key})
	}
	app.Spec.Helm = h
	return nil
}

// runCreate builds the object for the namespace and prints it (export) or
// applies it.
func runCreate(ctx context.Context, out io.Writer, ko *KubeOptions, export bool, k kind, build func(ns string) (client.Object, error)) error {
	if export {
		ns, err := ko.exportNamespace()
		if err != nil {
			return fail(2, err)
		}
		obj, err := build(ns)
		if err != nil {
			return fail(2, err)
		}
		manifest, err := cleanManifest(obj)
		if err != nil {
			return fail(2, err)
		}
		b, err := yaml.Marshal(manifest)
		if err != nil {
			return fail(2, err)
		}
		_, err = fmt.Fprintf(out, "---\n%s", b)
		return err
	}
	// Flags are checked before the kubeconfig is read.
	if _, err := build("default"); err != nil {
		return fail(2, err)
	}
	kc, err := ko.connect()
	if err != nil {
		return err
	}
	obj, err := build(kc.namespace)
	if err != nil {
		return fail(2, err)
	}
	action, err := applyManifest(ctx, kc, obj)
	if err != nil {
		return apiError(err, k, obj.GetNamespace(), obj.GetName())
	}
	fmt.Fprintf(out, "✓ %s %s\n", objectRef(k, obj.GetNamespace(), obj.GetName()), action)
	return nil
}

// applyManifest sends obj's manifest with server-side apply and reports
// whether it was created, updated or unchanged.
func applyManifest(ctx context.Context, kc *kube, obj client.Object) (string, error) {
	manifest, err := cleanManifest(obj)
	if err != nil {
		return "", err
	}
	live := obj.DeepCopyObject().(client.Object)
	before := ""
	switch err := kc.Get(ctx, client.ObjectKeyFromObject(obj), live); {
	case err == nil:
		before = live.GetResourceVersion()
	case !apierrors.IsNotFound(err):
		return "", err
	}
	u := &unstructured.Unstructured{Object: manifest}
	if err := kc.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(cliFieldManager), client.ForceOwnership); err != nil {
		return "", err
	}
	switch before {
	case "":
		return "created", nil
	case u.GetResourceVersion():
		return "unchanged", nil
	}
	return "updated", nil
}

// cleanManifest is obj as one would commit it to Git: apiVersion, kind,
// name, namespace, labels, annotations and spec; no status, no
// server-set metadata, no empty fields. Booleans that are false and
// numbers that are 0 stay: they were set on purpose.
func cleanManifest(obj client.Object) (map[string]any, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		kept := map[string]any{}
		for _, k := range []string{"name", "namespace", "labels", "annotations"} {
			if v, ok := md[k]; ok {
				kept[k] = v
			}
		}
		m["metadata"] = kept
	}
	pruneEmpty(m)
	return m, nil
}

// pruneEmpty deletes nil values, empty strings, maps and lists from m,
// depth first.
func pruneEmpty(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case map[string]any:
			pruneEmpty(x)
			if len(x) == 0 {
				delete(m, k)
			}
		case []any:
			for _, e := range x {
				if em, ok := e.(map[string]any); ok {
					pruneEmpty(em)
				}
			}
			if len(x) == 0 {
				delete(m, k)
			}
		case string:
			if x == "" {
				delete(m, k)
			}
		case nil:
			delete(m, k)
		}
	}
}

// validName checks the NAME argument of create.
func validName(name string) error {
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fmt.Errorf("invalid NAME %q: %s", name, strings.Join(errs, "; "))
	}
	return nil
}

// parseNamespacedName reads "[NAMESPACE/]NAME" given to flag; the
// namespace is empty when not given.
// requiredRef reads the required flag naming an object,
// "[NAMESPACE/]NAME"; about says what it names when it is missing.
func requiredRef(flag, value, about string) (namespace, name string, err error) {
	if value == "" {
		return "", "", fmt.Errorf("%s is required: %s", flag, about)
	}
	return parseNamespacedName(flag, value)
}

func parseNamespacedName(flag, s string) (namespace, name string, err error) {
	name = s
	if i := strings.Index(s, "/"); i >= 0 {
		namespace, name = s[:i], s[i+1:]
		if errs := validation.IsDNS1123Label(namespace); len(errs) > 0 {
			return "", "", fmt.Errorf("invalid %s %q: namespace %q: %s", flag, s, namespace, strings.Join(errs, "; "))
		}
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return "", "", fmt.Errorf("invalid %s %q: want [NAMESPACE/]NAME: %s", flag, s, strings.Join(errs, "; "))
	}
	return namespace, name, nil
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
