package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"

	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/helm"
	"github.com/cruisegitops/cruise/internal/pipeline"
	"github.com/cruisegitops/cruise/internal/render"
	"github.com/cruisegitops/cruise/internal/source"
)

// Environment variables the Git credentials fall back to when the matching
// flag is not given. Secrets come from files or the environment only, never
// from a flag value, so they do not end up in shell history or ps output.
const (
	EnvGitUsername = "CRUISE_GIT_USERNAME"
	EnvGitPassword = "CRUISE_GIT_PASSWORD"
	EnvGitToken    = "CRUISE_GIT_TOKEN"
)

// SourceOptions says where the manifests come from and how they are
// rendered; build, diff and apply share them.
type SourceOptions struct {
	// Source is a local directory that is not a Git repository (rendered in
	// place), a local Git repository, or a Git URL (https, ssh, scp-style).
	// Required.
	Source string
	// Ref is the Git ref in the form source.ParseRef reads ("main",
	// "tag:v1.2.0", "semver:>=1 <2", a commit SHA); empty means the remote's
	// HEAD. Not allowed for a plain directory.
	Ref string
	// Path is the directory (or single file) to render, relative to the
	// source's root; default ".".
	Path string
	// CacheDir holds Git clones and checkouts; default
	// <user cache dir>/cruise/git.
	CacheDir string
	// GitTimeout bounds the network part of a Git fetch; default 60s.
	GitTimeout time.Duration
	// AllowRemoteBases lets kustomizations refer to URLs and Git
	// repositories (render.Options.AllowRemoteBases).
	AllowRemoteBases bool
	// MaxFileSize and MaxTotalSize cap one file and the whole checkout or
	// render, in bytes; defaults 5Mi and 100Mi.
	MaxFileSize, MaxTotalSize byteSize
	// Git holds the credentials for a Git source.
	Git GitCredentialOptions
	// Chart names a chart from a repository (instead of Source) and the
	// values of a chart from either.
	Chart ChartOptions
}

// GitCredentialOptions name where Git credentials come from. Every secret
// is read from a file (or an environment variable), never from a flag.
type GitCredentialOptions struct {
	// Username is the HTTP basic-auth user (or the SSH user when the URL
	// names none); default $CRUISE_GIT_USERNAME.
	Username string
	// PasswordFile holds the HTTP password; default $CRUISE_GIT_PASSWORD.
	PasswordFile string
	// TokenFile holds a bearer token; default $CRUISE_GIT_TOKEN.
	TokenFile string
	// SSHKeyFile holds a PEM or OpenSSH private key.
	SSHKeyFile string
	// SSHPassphraseFile holds the passphrase of an encrypted SSHKeyFile.
	SSHPassphraseFile string
	// KnownHostsFile is checked against the SSH server's key; default
	// ~/.ssh/known_hosts when it exists.
	KnownHostsFile string
	// InsecureSkipHostKey accepts any SSH host key. For tests only.
	InsecureSkipHostKey bool
}

func defaultSourceOptions() SourceOptions {
	return SourceOptions{
		Path:         ".",
		GitTimeout:   source.DefaultTimeout,
		MaxFileSize:  byteSize(render.DefaultMaxFileBytes),
		MaxTotalSize: byteSize(render.DefaultMaxTotalBytes),
	}
}

func (o *SourceOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Source, "source", o.Source, "local directory, local Git repository or Git URL (https://, ssh://, git@host:path) to deploy from (required unless --chart)")
	fs.StringVar(&o.Ref, "ref", o.Ref, `Git ref: a branch or tag name, "branch:NAME", "tag:NAME", "semver:RANGE", or a commit SHA (default: the remote's HEAD)`)
	fs.StringVar(&o.Path, "path", o.Path, "directory (or file) inside the source to render; a kustomization there is built")
	fs.StringVar(&o.CacheDir, "cache-dir", o.CacheDir, "directory for Git clones and checkouts (default <user cache dir>/cruise/git)")
	fs.DurationVar(&o.GitTimeout, "git-timeout", o.GitTimeout, "time limit for contacting the Git server")
	fs.BoolVar(&o.AllowRemoteBases, "allow-remote-bases", o.AllowRemoteBases, "let kustomizations fetch remote bases and resources (URLs, Git repositories)")
	fs.Var(&o.MaxFileSize, "max-file-size", "largest manifest file accepted (bytes, or a quantity such as 5Mi)")
	fs.Var(&o.MaxTotalSize, "max-total-size", "largest total size of the source accepted (bytes, or a quantity such as 100Mi)")
	g := &o.Git
	fs.StringVar(&g.Username, "username", g.Username, "Git user name for HTTP basic auth (default $"+EnvGitUsername+")")
	fs.StringVar(&g.PasswordFile, "password-file", g.PasswordFile, "file holding the Git HTTP password (default $"+EnvGitPassword+")")
	fs.StringVar(&g.TokenFile, "token-file", g.TokenFile, "file holding a Git HTTP bearer token (default $"+EnvGitToken+")")
	fs.StringVar(&g.SSHKeyFile, "ssh-key-file", g.SSHKeyFile, "file holding the SSH private key for ssh:// and git@host:path sources")
	fs.StringVar(&g.SSHPassphraseFile, "ssh-passphrase-file", g.SSHPassphraseFile, "file holding the passphrase of an encrypted --ssh-key-file")
	fs.StringVar(&g.KnownHostsFile, "known-hosts-file", g.KnownHostsFile, "known_hosts file the SSH server's key must be in (default ~/.ssh/known_hosts if it exists)")
	fs.BoolVar(&g.InsecureSkipHostKey, "insecure-skip-host-key", g.InsecureSkipHostKey, "accept any SSH host key; FOR TESTING ONLY, it allows man-in-the-middle attacks")
	o.Chart.addFlags(fs)
}

// display names the source in messages and reports: --source, or the
// chart of --chart; without credentials.
func (o *SourceOptions) display() string {
	if o.Chart.fromRepo() {
		return o.Chart.display()
	}
	return redactURL(o.Source)
}

// rendered is a source turned into objects.
type rendered struct {
	// Revision is the Git revision ("main@sha1:<sha>"), empty for a plain
	// directory; for a chart from a repository "<version>@sha256:<hex>".
	Revision string
	// Objects are what the engine applies: for a chart its CRDs and
	// templates, never its hooks.
	Objects []render.Object
	// Chart is set when the source is a Helm chart.
	Chart *chartRelease
}

// load fetches the source when it is Git and renders Path, decrypting SOPS
// files with dec (nil: such a file fails the render). A chart (--chart,
// or a Path holding Chart.yaml) is rendered with Helm for the release and
// cluster env gives.
func (o *SourceOptions) load(ctx context.Context, dec *render.Decryption, env chartEnvFunc) (*rendered, error) {
	if err := o.Chart.validate(o.Source != ""); err != nil {
		return nil, err
	}
	if o.Chart.fromRepo() {
		return o.loadRepoChart(ctx, env)
	}
	if o.Source == "" {
		return nil, errors.New("--source or --chart is required")
	}
	ref, err := source.ParseRef(o.Ref)
	if err != nil {
		return nil, fmt.Errorf("--ref: %w", err)
	}
	root, out := "", &rendered{}
	switch {
	case source.IsLocalDir(o.Source):
		if o.Ref != "" {
			return nil, fmt.Errorf("--ref %q given, but %s is a plain directory, not a Git repository", o.Ref, o.Source)
		}
		root = o.Source
		if u, err := url.Parse(o.Source); err == nil && u.Scheme == "file" {
			root = u.Path
		}
	case looksLocal(o.Source):
		if _, err := os.Stat(o.Source); err != nil {
			return nil, fmt.Errorf("source %s: %w", o.Source, unwrapPathError(err))
		}
		fallthrough
	default:
		art, err := o.fetch(ctx, ref)
		if err != nil {
			return nil, err
		}
		root, out.Revision = art.Dir, art.Revision
	}
	if helm.IsChartDir(filepath.Join(root, filepath.FromSlash(o.Path))) {
		return o.loadGitChart(ctx, root, out.Revision, env)
	}
	if f := o.Chart.valuesGiven(); f != "" {
		return nil, fmt.Errorf("%s is for charts, but --path %s holds no Chart.yaml", f, o.Path)
	}
	res, err := render.Render(ctx, render.Options{
		Root:             root,
		Path:             o.Path,
		AllowRemoteBases: o.AllowRemoteBases,
		MaxFileBytes:     int64(o.MaxFileSize),
		MaxTotalBytes:    int64(o.MaxTotalSize),
		Decryption:       dec,
	})
	if errors.Is(err, render.ErrTooLarge) {
		return nil, fmt.Errorf("%w (see --max-file-size and --max-total-size)", err)
	}
	if err != nil {
		return nil, err
	}
	out.Objects = res.Objects
	return out, nil
}

func (o *SourceOptions) fetch(ctx context.Context, ref source.Ref) (*source.Artifact, error) {
	auth, err := o.Git.auth()
	if err != nil {
		return nil, err
	}
	cache := o.CacheDir
	if cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("find cache dir (use --cache-dir): %w", err)
		}
		cache = filepath.Join(dir, "cruise", "git")
	}
	f, err := source.NewFetcher(source.Options{
		CacheDir:              cache,
		Timeout:               o.GitTimeout,
		MaxFileBytes:          int64(o.MaxFileSize),
		MaxTotalBytes:         int64(o.MaxTotalSize),
		InsecureIgnoreHostKey: o.Git.InsecureSkipHostKey,
	})
	if err != nil {
		return nil, err
	}
	art, err := f.Fetch(ctx, source.Request{URL: o.Source, Ref: ref, Auth: auth})
	switch {
	case errors.Is(err, source.ErrHostKey):
		return nil, fmt.Errorf("%w (check --known-hosts-file)", err)
	case errors.Is(err, source.ErrAuth):
		return nil, fmt.Errorf("%w (check --username, --password-file, --token-file, --ssh-key-file or $CRUISE_GIT_*)", err)
	case errors.Is(err, source.ErrTooLarge):
		return nil, fmt.Errorf("%w (see --max-file-size and --max-total-size)", err)
	}
	return art, err
}

// auth gathers the credentials from files and the environment.
func (g *GitCredentialOptions) auth() (*source.Auth, error) {
	a := &source.Auth{Username: g.Username}
	if a.Username == "" {
		a.Username = os.Getenv(EnvGitUsername)
	}
	var err error
	if a.Password, err = secretFrom("--password-file", g.PasswordFile, EnvGitPassword); err != nil {
		return nil, err
	}
	if a.BearerToken, err = secretFrom("--token-file", g.TokenFile, EnvGitToken); err != nil {
		return nil, err
	}
	if a.SSHPassphrase, err = secretFrom("--ssh-passphrase-file", g.SSHPassphraseFile, ""); err != nil {
		return nil, err
	}
	if g.SSHKeyFile != "" {
		if a.SSHPrivateKey, err = readFlagFile("--ssh-key-file", g.SSHKeyFile); err != nil {
			return nil, err
		}
	}
	switch {
	case g.KnownHostsFile != "":
		if a.KnownHosts, err = readFlagFile("--known-hosts-file", g.KnownHostsFile); err != nil {
			return nil, err
		}
	default:
		if home, err := os.UserHomeDir(); err == nil {
			// The default is optional: without it only SSH sources fail.
			a.KnownHosts, _ = os.ReadFile(filepath.Join(home, ".ssh", "known_hosts"))
		}
	}
	return a, nil
}

// secretFrom reads a secret from file, else from the environment variable
// env (when not empty). Trailing line breaks are dropped: editors add them.
func secretFrom(flag, file, env string) (string, error) {
	if file == "" {
		if env == "" {
			return "", nil
		}
		return os.Getenv(env), nil
	}
	b, err := readFlagFile(flag, file)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// readFlagFile reads the file a flag names. The error names the flag and
// the path, never the content.
func readFlagFile(flag, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, path, unwrapPathError(err))
	}
	return b, nil
}

// unwrapPathError drops the *os.PathError around err, whose message would
// repeat the path the caller already names.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// looksLocal reports whether s can only be a local path (not a URL nor
// git's scp-like host:path).
func looksLocal(s string) bool {
	return !strings.Contains(s, "://") && !strings.Contains(s, ":")
}

// redactURL removes the userinfo of a URL, for printing.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		if i, at := strings.Index(s, "://"), strings.LastIndex(s, "@"); i >= 0 && at > i {
			return s[:i+3] + "***@" + s[at+1:]
		}
		return s
	}
	if u.User == nil {
		return s
	}
	u.User = nil
	return u.String()
}

// byteSize is a flag holding a size in bytes, written as a number or a
// Kubernetes quantity ("5Mi", "100M").
type byteSize int64

func (b *byteSize) String() string {
	return resource.NewQuantity(int64(*b), resource.BinarySI).String()
}

func (b *byteSize) Set(s string) error {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return fmt.Errorf("%q is not a size: use bytes or a quantity such as 5Mi", s)
	}
	v, ok := q.AsInt64()
	if !ok || v <= 0 {
		return fmt.Errorf("%q is not a positive whole number of bytes", s)
	}
	*b = byteSize(v)
	return nil
}

func (b *byteSize) Type() string { return "size" }

// ClusterOptions say which cluster, namespaces and inventory diff and apply
// work on. The kubeconfig flags behave as kubectl's.
type ClusterOptions struct {
	// Kubeconfig is the kubeconfig file; default $KUBECONFIG, else
	// ~/.kube/config.
	Kubeconfig string
	// Context is the kubeconfig context; default its current context.
	Context string
	// RequestTimeout bounds each request to the API server.
	RequestTimeout time.Duration
	// Name names the inventory: the set of objects applied under it, which
	// prune compares with. Required; a DNS label.
	Name string
	// InventoryNamespace holds the inventory ConfigMap
	// "cruise-inventory-<name>"; default "default".
	InventoryNamespace string
	// Namespace is given to namespaced objects that name none (as
	// kubectl -n); default the context's namespace, else "default".
	Namespace string
	// TargetNamespace, when set, replaces the namespace of every
	// namespaced object.
	TargetNamespace string
}

func defaultClusterOptions() ClusterOptions {
	return ClusterOptions{RequestTimeout: 30 * time.Second, InventoryNamespace: "default"}
}

func (o *ClusterOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "kubeconfig file (default $KUBECONFIG, else ~/.kube/config)")
	fs.StringVar(&o.Context, "context", o.Context, "kubeconfig context to use (default its current context)")
	fs.DurationVar(&o.RequestTimeout, "request-timeout", o.RequestTimeout, "time limit for each request to the API server")
	fs.StringVar(&o.Name, "name", o.Name, "name of the inventory: what was applied under it is pruned when it leaves the source (required)")
	fs.StringVar(&o.InventoryNamespace, "inventory-namespace", o.InventoryNamespace, "namespace of the inventory ConfigMap cruise-inventory-NAME")
	fs.StringVarP(&o.Namespace, "namespace", "n", o.Namespace, "namespace for namespaced objects that name none (default the context's namespace)")
	fs.StringVar(&o.TargetNamespace, "target-namespace", o.TargetNamespace, "put every namespaced object into this namespace, whatever the manifests say")
}

// validate checks the flags that need no cluster.
func (o *ClusterOptions) validate() error {
	if o.Name == "" {
		return errors.New("--name is required: it names the inventory of what this source deploys")
	}
	for _, f := range []struct {
		flag, value string
		optional    bool // empty means "use the default"
	}{
		{"--name", o.Name, false},
		{"--inventory-namespace", o.InventoryNamespace, false},
		{"--namespace", o.Namespace, true},
		{"--target-namespace", o.TargetNamespace, true},
	} {
		if f.value == "" && f.optional {
			continue
		}
		if errs := validation.IsDNS1123Label(f.value); len(errs) > 0 {
			return fmt.Errorf("invalid %s %q: %s", f.flag, f.value, strings.Join(errs, "; "))
		}
	}
	if o.RequestTimeout < 0 {
		return fmt.Errorf("invalid --request-timeout %s: must not be negative", o.RequestTimeout)
	}
	return nil
}

// cluster is what diff and apply need to talk to the cluster.
type cluster struct {
	config     *rest.Config
	engine     *apply.Engine
	owner      apply.Owner
	inventory  apply.Inventory
	namespaces apply.Namespaces
}

// target is where the objects go: the inventory named by --name in
// --inventory-namespace, and the namespaces of -n and --target-namespace.
// Each command adds how (prune, force, wait).
func (c *cluster) target() pipeline.Target {
	return pipeline.Target{Owner: c.owner, Namespaces: c.namespaces}
}

// connect loads the kubeconfig and builds the engine. It does not contact
// the API server yet.
func (o *ClusterOptions) connect() (*cluster, error) {
	cfg, ns, err := loadKubeconfig(o.Kubeconfig, o.Context, o.Namespace)
	if err != nil {
		return nil, err
	}
	cfg.Timeout = o.RequestTimeout
	// An apply sends a few requests per object; client-go's default of 5
	// per second would make a large one crawl. The engine keeps a bounded
	// number of requests in flight, and the API server's priority and
	// fairness protects it, so no client-side rate limit is set.
	cfg.QPS, cfg.Burst = -1, 0
	engine, err := apply.NewEngine(cfg, apply.EngineOptions{})
	if err != nil {
		return nil, err
	}
	return &cluster{
		config:     cfg,
		engine:     engine,
		owner:      apply.Owner{Name: o.Name, Namespace: o.InventoryNamespace},
		inventory:  engine.NewConfigMapInventory(o.InventoryNamespace, o.Name),
		namespaces: apply.Namespaces{Default: ns, Target: o.TargetNamespace},
	}, nil
}
