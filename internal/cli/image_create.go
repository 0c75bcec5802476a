package cli

import (
	"errors"
	"fmt"
	"net/mail"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/image"
	"github.com/cruisegitops/cruise/internal/imageupdate"
)

// CreateImageRepositoryOptions configures `cruise create image repository
// NAME`.
type CreateImageRepositoryOptions struct {
	Kube KubeOptions
	// Image to scan, "host[:port]/path" without a tag or digest; a name
	// without a host is on Docker Hub. Required.
	Image string
	// Interval between scans; default 5m.
	Interval time.Duration
	// Timeout of one scan; 0 leaves the server's default.
	Timeout time.Duration
	// SecretRef names a kubernetes.io/dockerconfigjson Secret.
	SecretRef string
	// CertSecretRef names a Secret with ca.crt (and tls.crt, tls.key).
	CertSecretRef string
	// Insecure talks plain HTTP to the registry.
	Insecure bool
	// Export prints the object as YAML instead of applying it.
	Export bool
}

// CreateImagePolicyOptions configures `cruise create image policy NAME`.
type CreateImagePolicyOptions struct {
	Kube KubeOptions
	// ImageRef is the ImageRepository, "[NAMESPACE/]NAME". Required.
	ImageRef string
	// Exactly one of SemVer (a range), Numeric and Alpha (asc or desc).
	SemVer, Numeric, Alpha string
	// FilterRegex keeps only the tags it matches; FilterExtract is a
	// template over its groups ("$ts") that the policy compares instead
	// of the whole tag.
	FilterRegex, FilterExtract string
	// Export prints the object as YAML instead of applying it.
	Export bool
}

// CreateImageUpdateOptions configures `cruise create image update NAME`.
type CreateImageUpdateOptions struct {
	Kube KubeOptions
	// Source is the GitRepository to write to, "[NAMESPACE/]NAME".
	// Required.
	Source string
	// Path, relative to the repository's root, under which files may
	// change. Required.
	Path string
	// AuthorName and AuthorEmail sign the commits. Required.
	AuthorName, AuthorEmail string
	// PushBranch is the branch to push to (default the checkout branch);
	// it may be a template, for a branch per update.
	PushBranch string
	// CheckoutBranch is the branch to update (default the GitRepository's).
	CheckoutBranch string
	// CommitTemplate is the commit message template (default lists each
	// image changed, from and to).
	CommitTemplate string
	// Interval between runs; default 1m.
	Interval time.Duration
	// Export prints the object as YAML instead of applying it.
	Export bool
}

// newCreateImageCommand is `cruise create image repository|policy|update`.
func newCreateImageCommand() *cobra.Command {
	cmd := verbCommand("image (repository|policy|update) NAME", "Create or update an image automation object", "")
	// The flags of the kinds given without a kind get verbCommand's hint
	// rather than "unknown flag".
	cmd.FParseErrWhitelist = cobra.FParseErrWhitelist{UnknownFlags: true}
	cmd.AddCommand(newCreateImageRepositoryCommand(), newCreateImagePolicyCommand(), newCreateImageUpdateCommand())
	return cmd
}

func newCreateImageRepositoryCommand() *cobra.Command {
	opts := &CreateImageRepositoryOptions{Kube: defaultKubeOptions(), Interval: 5 * time.Minute}
	k := kindImageRepository
	cmd := &cobra.Command{
		Use:     "repository NAME --image IMG",
		Short:   "Create or update an ImageRepository: an image whose tags are scanned",
		Aliases: imageAliases[k],
		Args:    kindArgs(k),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCreate(cmd.Context(), cmd.OutOrStdout(), &opts.Kube, opts.Export, k,
				func(ns string) (client.Object, error) { return opts.object(ns, args[0]) })
		},
	}
	fs := cmd.Flags()
	opts.Kube.addFlags(fs)
	fs.StringVar(&opts.Image, "image", opts.Image, "image to scan, host[:port]/path without tag or digest (required; no host: Docker Hub)")
	fs.DurationVar(&opts.Interval, "interval", opts.Interval, "time between scans")
	fs.DurationVar(&opts.Timeout, "timeout", opts.Timeout, "time limit of one scan (default the server's)")
	fs.StringVar(&opts.SecretRef, "secret-ref", opts.SecretRef, "kubernetes.io/dockerconfigjson Secret in the same namespace with the registry's credentials")
	fs.StringVar(&opts.CertSecretRef, "cert-secret-ref", opts.CertSecretRef, "Secret in the same namespace with ca.crt (and tls.crt, tls.key for client certificates)")
	fs.BoolVar(&opts.Insecure, "insecure", opts.Insecure, "talk plain HTTP to the registry")
	fs.BoolVar(&opts.Export, "export", opts.Export, "print the object as YAML instead of creating it")
	cmd.SetFlagErrorFunc(flagError)
	return cmd
}

func newCreateImagePolicyCommand() *cobra.Command {
	opts := &CreateImagePolicyOptions{Kube: defaultKubeOptions()}
	k := kindImagePolicy
	cmd := &cobra.Command{
		Use:     "policy NAME --image-ref REPO (--select-semver R | --select-numeric asc|desc | --select-alpha asc|desc)",
		Short:   "Create or update an ImagePolicy: which of a repository's tags to deploy",
		Aliases: imageAliases[k],
		Args:    kindArgs(k),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCreate(cmd.Context(), cmd.OutOrStdout(), &opts.Kube, opts.Export, k,
				func(ns string) (client.Object, error) { return opts.object(ns, args[0]) })
		},
	}
	fs := cmd.Flags()
	opts.Kube.addFlags(fs)
	fs.StringVar(&opts.ImageRef, "image-ref", opts.ImageRef, "ImageRepository whose tags to choose from, [NAMESPACE/]NAME (required)")
	fs.StringVar(&opts.SemVer, "select-semver", opts.SemVer, `choose the highest version in this semver range, e.g. ">=1.2.0 <2.0.0"`)
	fs.StringVar(&opts.Numeric, "select-numeric", opts.Numeric, "choose by number: desc the highest, asc the lowest")
	fs.StringVar(&opts.Alpha, "select-alpha", opts.Alpha, "choose alphabetically: desc the last, asc the first")
	fs.StringVar(&opts.FilterRegex, "filter-regex", opts.FilterRegex, "consider only the tags this regular expression matches")
	fs.StringVar(&opts.FilterExtract, "filter-extract", opts.FilterExtract, `compare what this template over --filter-regex's groups makes of a tag, e.g. "$ts"`)
	fs.BoolVar(&opts.Export, "export", opts.Export, "print the object as YAML instead of creating it")
	cmd.SetFlagErrorFunc(flagError)
	return cmd
}

func newCreateImageUpdateCommand() *cobra.Command {
	opts := &CreateImageUpdateOptions{Kube: defaultKubeOptions(), Interval: time.Minute}
	k := kindImageUpdateAutomation
	cmd := &cobra.Command{
		Use:     "update NAME --source GITREPO --path P --author-name N --author-email E",
		Short:   "Create or update an ImageUpdateAutomation: commits the policies' choices to Git",
		Aliases: imageAliases[k],
		Args:    kindArgs(k),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCreate(cmd.Context(), cmd.OutOrStdout(), &opts.Kube, opts.Export, k,
				func(ns string) (client.Object, error) { return opts.object(ns, args[0]) })
		},
	}
	fs := cmd.Flags()
	opts.Kube.addFlags(fs)
	fs.StringVar(&opts.Source, "source", opts.Source, "GitRepository to commit to, [NAMESPACE/]NAME (required)")
	fs.StringVar(&opts.Path, "path", opts.Path, `directory of the repository whose files may change ("." for all) (required)`)
	fs.StringVar(&opts.AuthorName, "author-name", opts.AuthorName, "author name of the commits (required)")
	fs.StringVar(&opts.AuthorEmail, "author-email", opts.AuthorEmail, "author email of the commits (required)")
	fs.StringVar(&opts.PushBranch, "push-branch", opts.PushBranch, `branch to push to (default the checkout branch); a template such as "image-updates/{{ .ChangeID }}" makes a branch per update`)
	fs.StringVar(&opts.CheckoutBranch, "checkout-branch", opts.CheckoutBranch, "branch to update (default the GitRepository's)")
	fs.StringVar(&opts.CommitTemplate, "commit-template", opts.CommitTemplate, "Go template of the commit message (default lists each image changed, from and to)")
	fs.DurationVar(&opts.Interval, "interval", opts.Interval, "time between runs")
	fs.BoolVar(&opts.Export, "export", opts.Export, "print the object as YAML instead of creating it")
	cmd.SetFlagErrorFunc(flagError)
	return cmd
}

// object builds the ImageRepository, or says which flag is wrong.
func (o *CreateImageRepositoryOptions) object(namespace, name string) (*v1alpha1.ImageRepository, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	if err := checkImageFlag(o.Image, o.Insecure); err != nil {
		return nil, err
	}
	switch {
	case o.Interval <= 0:
		return nil, fmt.Errorf("invalid --interval %s: must be positive", o.Interval)
	case o.Timeout < 0:
		return nil, fmt.Errorf("invalid --timeout %s: must not be negative", o.Timeout)
	}
	repo := &v1alpha1.ImageRepository{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: v1alpha1.ImageRepositoryKind},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: v1alpha1.ImageRepositorySpec{
			Image:    o.Image,
			Interval: metav1.Duration{Duration: o.Interval},
			Insecure: o.Insecure,
		},
	}
	if o.Timeout > 0 {
		repo.Spec.Timeout = &metav1.Duration{Duration: o.Timeout}
	}
	for _, ref := range []struct {
		flag, name string
		field      **v1alpha1.LocalObjectReference
	}{
		{"--secret-ref", o.SecretRef, &repo.Spec.SecretRef},
		{"--cert-secret-ref", o.CertSecretRef, &repo.Spec.CertSecretRef},
	} {
		if ref.name == "" {
			continue
		}
		if errs := validation.IsDNS1123Subdomain(ref.name); len(errs) > 0 {
			return nil, fmt.Errorf("invalid %s %q: %s", ref.flag, ref.name, strings.Join(errs, "; "))
		}
		*ref.field = &v1alpha1.LocalObjectReference{Name: ref.name}
	}
	return repo, nil
}

// checkImageFlag refuses an --image the scanner could not list: missing,
// with a scheme, a tag or a digest, or not an image name at all.
func checkImageFlag(img string, insecure bool) error {
	if img == "" {
		return errors.New("--image is required: the image to scan, host[:port]/path without a tag, e.g. ghcr.io/org/app")
	}
	if strings.Contains(img, "://") {
		return fmt.Errorf("invalid --image %q: give host[:port]/path without a scheme (--insecure for plain HTTP)", img)
	}
	if _, digest, ok := strings.Cut(img, "@"); ok {
		return fmt.Errorf("invalid --image %q: it names the digest %s; give the repository only, without tag or digest", img, digest)
	}
	last := img[strings.LastIndex(img, "/")+1:]
	if _, tag, ok := strings.Cut(last, ":"); ok {
		return fmt.Errorf("invalid --image %q: it names the tag %q; give the repository only (the policy chooses the tag)", img, tag)
	}
	if _, err := image.Repository(img, insecure); err != nil {
		if inner := errors.Unwrap(err); inner != nil {
			err = inner
		}
		return fmt.Errorf("invalid --image %q: %w", img, err)
	}
	return nil
}

// object builds the ImagePolicy, or says which flag is wrong. The range
// and the pattern are checked as the controller will check them.
func (o *CreateImagePolicyOptions) object(namespace, name string) (*v1alpha1.ImagePolicy, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	repoNS, repoName, err := requiredRef("--image-ref", o.ImageRef, "the ImageRepository whose tags to choose from, [NAMESPACE/]NAME")
	if err != nil {
		return nil, err
	}
	var given []string
	for _, s := range []struct{ flag, value string }{
		{"--select-semver", o.SemVer}, {"--select-numeric", o.Numeric}, {"--select-alpha", o.Alpha},
	} {
		if s.value != "" {
			given = append(given, s.flag)
		}
	}
	switch len(given) {
	case 0:
		return nil, errors.New("say how to choose a tag: give one of --select-semver, --select-numeric and --select-alpha")
	case 1:
	default:
		return nil, fmt.Errorf("%s cannot be combined: give exactly one of --select-semver, --select-numeric and --select-alpha", strings.Join(given, " and "))
	}
	policy := &v1alpha1.ImagePolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: v1alpha1.ImagePolicyKind},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       v1alpha1.ImagePolicySpec{ImageRepositoryRef: v1alpha1.NamespacedObjectReference{Name: repoName, Namespace: repoNS}},
	}
	spec := image.SelectorSpec{Range: o.SemVer}
	flag, value := given[0], o.SemVer
	switch {
	case o.SemVer != "":
		spec.Kind = image.SemVer
		policy.Spec.Policy.SemVer = &v1alpha1.SemVerPolicy{Range: o.SemVer}
	case o.Numeric != "":
		spec.Kind, spec.Order, value = image.Numerical, o.Numeric, o.Numeric
		policy.Spec.Policy.Numerical = &v1alpha1.OrderPolicy{Order: o.Numeric}
	default:
		spec.Kind, spec.Order, value = image.Alphabetical, o.Alpha, o.Alpha
		policy.Spec.Policy.Alphabetical = &v1alpha1.OrderPolicy{Order: o.Alpha}
	}
	if spec.Order != "" && spec.Order != v1alpha1.OrderAsc && spec.Order != v1alpha1.OrderDesc {
		return nil, fmt.Errorf("invalid %s %q: want asc or desc", flag, value)
	}
	if _, err := image.NewSelector(spec); err != nil {
		return nil, fmt.Errorf("invalid %s %q: %w", flag, value, err)
	}
	if o.FilterExtract != "" && o.FilterRegex == "" {
		return nil, fmt.Errorf("--filter-extract %q needs --filter-regex: the pattern whose groups it names", o.FilterExtract)
	}
	if o.FilterRegex != "" {
		re, err := regexp.Compile(o.FilterRegex)
		if err != nil {
			return nil, fmt.Errorf("invalid --filter-regex %q: %w", o.FilterRegex, err)
		}
		if err := checkExtract(re, o.FilterExtract); err != nil {
			return nil, err
		}
		spec.Pattern, spec.Extract = o.FilterRegex, o.FilterExtract
		if _, err := image.NewSelector(spec); err != nil {
			return nil, fmt.Errorf("invalid --filter-regex %q: %w", o.FilterRegex, err)
		}
		policy.Spec.FilterTags = &v1alpha1.TagFilter{Pattern: o.FilterRegex, Extract: o.FilterExtract}
	}
	return policy, nil
}

// extractGroup finds the group references of an extract template: $name,
// ${name}, $1, ${1}.
var extractGroup = regexp.MustCompile(`\$(?:\{([^}]*)\}|([A-Za-z0-9_]+))`)

// checkExtract refuses an extract template naming a group the pattern
// does not have: it would expand to "" for every tag, which every policy
// then ranks equal.
func checkExtract(re *regexp.Regexp, extract string) error {
	groups := map[string]bool{}
	for i, n := range re.SubexpNames() {
		groups[fmt.Sprint(i)] = true
		if n != "" {
			groups[n] = true
		}
	}
	for _, m := range extractGroup.FindAllStringSubmatch(strings.ReplaceAll(extract, "$$", ""), -1) {
		g := m[1] + m[2]
		if !groups[g] {
			return fmt.Errorf("invalid --filter-extract %q: --filter-regex %q has no group %s", extract, re.String(), g)
		}
	}
	return nil
}

// object builds the ImageUpdateAutomation, or says which flag is wrong.
// Templates are tried as the controller will try them.
func (o *CreateImageUpdateOptions) object(namespace, name string) (*v1alpha1.ImageUpdateAutomation, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	srcNS, srcName, err := requiredRef("--source", o.Source, "the GitRepository to commit to, [NAMESPACE/]NAME")
	if err != nil {
		return nil, err
	}
	switch {
	case o.Path == "":
		return nil, errors.New(`--path is required: the directory whose files may change ("." for the whole repository)`)
	case path.IsAbs(o.Path) || path.Clean(o.Path) == ".." || strings.HasPrefix(path.Clean(o.Path), "../"):
		return nil, fmt.Errorf("invalid --path %q: want a directory inside the repository, relative to its root", o.Path)
	case o.AuthorName == "":
		return nil, errors.New("--author-name is required: the name the commits are by")
	case o.AuthorEmail == "":
		return nil, errors.New("--author-email is required: the email the commits are by")
	case o.Interval <= 0:
		return nil, fmt.Errorf("invalid --interval %s: must be positive", o.Interval)
	}
	if a, err := mail.ParseAddress(o.AuthorEmail); err != nil || a.Address != o.AuthorEmail {
		return nil, fmt.Errorf("invalid --author-email %q: want an address such as bot@example.com", o.AuthorEmail)
	}
	if o.CheckoutBranch != "" && plumbing.ReferenceName("refs/heads/"+o.CheckoutBranch).Validate() != nil {
		return nil, fmt.Errorf("invalid --checkout-branch %q: not a valid branch name", o.CheckoutBranch)
	}
	if strings.Contains(o.PushBranch, "{{") {
		if _, err := imageupdate.ParseTemplates("", o.PushBranch); err != nil {
			return nil, fmt.Errorf("invalid --push-branch %q: %w", o.PushBranch, err)
		}
	} else if o.PushBranch != "" && plumbing.ReferenceName("refs/heads/"+o.PushBranch).Validate() != nil {
		return nil, fmt.Errorf("invalid --push-branch %q: not a valid branch name", o.PushBranch)
	}
	if o.CommitTemplate != "" {
		if _, err := imageupdate.ParseTemplates(o.CommitTemplate, ""); err != nil {
			return nil, fmt.Errorf("invalid --commit-template: %w", err)
		}
	}
	auto := &v1alpha1.ImageUpdateAutomation{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: v1alpha1.ImageUpdateAutomationKind},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: v1alpha1.ImageUpdateAutomationSpec{
			Interval:  metav1.Duration{Duration: o.Interval},
			SourceRef: v1alpha1.ImageSourceReference{Kind: v1alpha1.GitRepositoryKind, Name: srcName, Namespace: srcNS},
			Git: v1alpha1.ImageGitSpec{Commit: v1alpha1.GitCommitSpec{
				Author:          v1alpha1.CommitAuthor{Name: o.AuthorName, Email: o.AuthorEmail},
				MessageTemplate: o.CommitTemplate,
			}},
			Update: &v1alpha1.UpdateStrategy{Path: path.Clean(o.Path), Strategy: v1alpha1.UpdateStrategySetters},
		},
	}
	if o.CheckoutBranch != "" {
		auto.Spec.Git.Checkout = &v1alpha1.GitCheckout{Ref: v1alpha1.GitCheckoutRef{Branch: o.CheckoutBranch}}
	}
	if o.PushBranch != "" {
		auto.Spec.Git.Push = &v1alpha1.GitPushSpec{Branch: o.PushBranch}
	}
	return auto, nil
}
