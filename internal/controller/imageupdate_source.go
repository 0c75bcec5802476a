package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/gitwrite"
	"github.com/cruisegitops/cruise/internal/image"
	"github.com/cruisegitops/cruise/internal/imageupdate"
	gitsource "github.com/cruisegitops/cruise/internal/source"
)

// gitTarget is where an automation writes: the GitRepository's URL, the
// branch checked out, and the credentials used to fetch and push.
type gitTarget struct {
	key     types.NamespacedName
	url     string
	branch  string
	auth    *gitsource.Auth
	timeout time.Duration
	// tracked is the branch the GitRepository follows ("" when it
	// follows a tag, a range or a commit).
	tracked string
}

// target resolves spec.sourceRef. A GitRepository of another namespace is
// used only where its spec.accessFrom allows, as for Applications.
func (r *ImageUpdateAutomationReconciler) target(ctx context.Context, auto *cruisev1.ImageUpdateAutomation) (*gitTarget, error) {
	ref := auto.Spec.SourceRef
	if ref.Kind != "" && ref.Kind != cruisev1.GitRepositoryKind {
		return nil, stalling(cruisev1.ReasonInvalidSource, fmt.Errorf("spec.sourceRef.kind %q: only GitRepository is supported", ref.Kind))
	}
	key := types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}
	if key.Namespace == "" {
		key.Namespace = auto.Namespace
	}
	repo := &cruisev1.GitRepository{}
	if err := r.Client.Get(ctx, key, repo); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, waiting(cruisev1.ReasonSourceNotFound, time.Minute, "GitRepository %s not found", key)
		}
		return nil, transient(cruisev1.ReasonSourceNotReady, fmt.Errorf("read GitRepository %s: %w", key, err))
	}
	if key.Namespace != auto.Namespace && !accessAllowed(repo, auto.Namespace) {
		return nil, stalling(cruisev1.ReasonSourceNotAllowed, fmt.Errorf(
			"GitRepository %s does not allow namespace %s (spec.accessFrom)", key, auto.Namespace))
	}
	auth, err := r.pushAuth(ctx, auto, repo, key)
	if err != nil {
		return nil, err
	}
	branch, err := checkoutBranch(auto, repo, key)
	if err != nil {
		return nil, err
	}
	t := &gitTarget{key: key, url: repo.Spec.URL, branch: branch, auth: auth}
	if repo.Spec.Ref != nil {
		t.tracked = repo.Spec.Ref.Branch
	}
	if repo.Spec.Timeout != nil {
		t.timeout = repo.Spec.Timeout.Duration
	}
	return t, nil
}

// checkoutBranch is spec.git.checkout.ref.branch, else the branch the
// GitRepository follows (its spec.ref.branch, or the default branch its
// last fetch resolved). A GitRepository that follows a tag, a version
// range or a commit has no branch to commit to: the automation must name
// one.
func checkoutBranch(auto *cruisev1.ImageUpdateAutomation, repo *cruisev1.GitRepository, key types.NamespacedName) (string, error) {
	if c := auto.Spec.Git.Checkout; c != nil && c.Ref.Branch != "" {
		return c.Ref.Branch, nil
	}
	if ref := repo.Spec.Ref; ref != nil {
		follows := ""
		switch {
		case ref.Branch != "":
			return ref.Branch, nil
		case ref.Tag != "":
			follows = "tag " + ref.Tag
		case ref.SemVer != "":
			follows = "the version range " + ref.SemVer
		case ref.Commit != "":
			follows = "commit " + ref.Commit
		}
		if follows != "" {
			return "", stalling(cruisev1.ReasonInvalidSource, fmt.Errorf(
				"GitRepository %s follows %s, not a branch: name the branch to update in spec.git.checkout.ref.branch", key, follows))
		}
	}
	if art := repo.Status.Artifact; art != nil {
		if rev, ok := gitsource.ParseRevision(art.Revision); ok && rev.Ref != "" {
			return rev.Ref, nil
		}
	}
	return "", waiting(cruisev1.ReasonSourceNotReady, time.Minute,
		"GitRepository %s follows the default branch and has not been fetched yet; or name the branch in spec.git.checkout.ref.branch", key)
}

// pushAuth reads the credentials the automation fetches and pushes with:
// spec.pushSecretRef (a Secret of the automation's namespace), else the
// GitRepository's pushSecretRef, else its secretRef. A GitRepository's
// accessFrom lets other namespaces read it, not push with its credentials:
// an automation of another namespace must name its own push Secret.
func (r *ImageUpdateAutomationReconciler) pushAuth(ctx context.Context, auto *cruisev1.ImageUpdateAutomation, repo *cruisev1.GitRepository, repoKey types.NamespacedName) (*gitsource.Auth, error) {
	var key types.NamespacedName
	switch {
	case auto.Spec.PushSecretRef != nil:
		key = types.NamespacedName{Namespace: auto.Namespace, Name: auto.Spec.PushSecretRef.Name}
	case repo.Spec.PushSecretRef != nil || repo.Spec.SecretRef != nil:
		ref := repo.Spec.PushSecretRef
		if ref == nil {
			ref = repo.Spec.SecretRef
		}
		if repo.Namespace != auto.Namespace {
			return nil, stalling(cruisev1.ReasonSourceNotAllowed, fmt.Errorf(
				"GitRepository %s is in another namespace: its credentials push only for automations of %s; name a push Secret of namespace %s in spec.pushSecretRef",
				repoKey, repo.Namespace, auto.Namespace))
		}
		key = types.NamespacedName{Namespace: repo.Namespace, Name: ref.Name}
	default:
		return nil, nil
	}
	secret, err := r.secret(ctx, key, "push credentials")
	if err != nil {
		return nil, err
	}
	return gitsource.AuthFromData(secret.Data), nil
}

// secret reads a Secret; a missing one may be created any moment, so it
// backs off rather than stalls.
func (r *ImageUpdateAutomationReconciler) secret(ctx context.Context, key types.NamespacedName, what string) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, key, secret); err != nil {
		reason := cruisev1.ReasonPushFailed
		if apierrors.IsNotFound(err) {
			reason = cruisev1.ReasonSecretNotFound
		}
		return nil, transient(reason, fmt.Errorf("read %s Secret %s: %w", what, key, err))
	}
	return secret, nil
}

// Keys of a signing key Secret.
const (
	signingKeySSH        = "identity"
	signingKeyOpenPGP    = "git.asc"
	signingKeyPassphrase = "passphrase"
)

// signer reads spec.git.commit.signingKey: an armored OpenPGP key under
// "git.asc" or an SSH private key under "identity", with an optional
// "passphrase". Errors name the Secret and key, never what is in it.
func (r *ImageUpdateAutomationReconciler) signer(ctx context.Context, auto *cruisev1.ImageUpdateAutomation) (gitwrite.Signer, error) {
	sk := auto.Spec.Git.Commit.SigningKey
	if sk == nil {
		return nil, nil
	}
	key := types.NamespacedName{Namespace: auto.Namespace, Name: sk.SecretRef.Name}
	secret, err := r.secret(ctx, key, "signing key")
	if err != nil {
		return nil, err
	}
	name := signingKeyOpenPGP
	data := secret.Data[name]
	if len(data) == 0 {
		name, data = signingKeySSH, secret.Data[signingKeySSH]
	}
	if len(data) == 0 {
		return nil, stalling(cruisev1.ReasonInvalidSigningKey, fmt.Errorf(
			"signing key Secret %s has neither %q (an SSH private key) nor %q (an armored OpenPGP key)", key, signingKeySSH, signingKeyOpenPGP))
	}
	s, err := gitwrite.NewSigner(data, secret.Data[signingKeyPassphrase])
	if err != nil {
		return nil, stalling(cruisev1.ReasonInvalidSigningKey, fmt.Errorf("signing key Secret %s, key %q: %w", key, name, err))
	}
	return s, nil
}

// policies lists the ImagePolicies of the automation's namespace and
// which of them spec.policySelector selects.
func (r *ImageUpdateAutomationReconciler) policies(ctx context.Context, auto *cruisev1.ImageUpdateAutomation) (map[string]imageupdate.Policy, error) {
	sel, err := policySelector(auto)
	if err != nil {
		return nil, err
	}
	// Read past the cache: a run may be the reaction to a policy's new
	// choice, and a cache that has not seen it yet would make the run
	// write nothing, with no later event to run again. Runs are rare (an
	// interval, a new choice), so the uncached list costs little.
	var list cruisev1.ImagePolicyList
	if err := r.APIReader.List(ctx, &list, client.InNamespace(auto.Namespace)); err != nil {
		return nil, transient(cruisev1.ReasonPushFailed, fmt.Errorf("list ImagePolicies of %s: %w", auto.Namespace, err))
	}
	out := make(map[string]imageupdate.Policy, len(list.Items))
	for _, p := range list.Items {
		pol := imageupdate.Policy{Selected: sel.Matches(labels.Set(p.Labels))}
		if l := p.Status.LatestRef; l != nil && l.Tag != "" {
			pol.Latest = &image.Ref{Name: l.Name, Tag: l.Tag, Digest: l.Digest}
		}
		out[p.Name] = pol
	}
	return out, nil
}

func policySelector(auto *cruisev1.ImageUpdateAutomation) (labels.Selector, error) {
	if auto.Spec.PolicySelector == nil {
		return labels.Everything(), nil
	}
	sel, err := metav1.LabelSelectorAsSelector(auto.Spec.PolicySelector)
	if err != nil {
		return nil, stalling(cruisev1.ReasonValidationFailed, fmt.Errorf("spec.policySelector: %w", err))
	}
	return sel, nil
}

// updatePath is spec.update.path, refused when it is absolute or leaves
// the repository.
func updatePath(auto *cruisev1.ImageUpdateAutomation) (string, error) {
	p := "."
	if u := auto.Spec.Update; u != nil {
		if u.Strategy != "" && u.Strategy != cruisev1.UpdateStrategySetters {
			return "", stalling(cruisev1.ReasonValidationFailed, fmt.Errorf("spec.update.strategy %q: only %s is supported", u.Strategy, cruisev1.UpdateStrategySetters))
		}
		if u.Path != "" {
			p = u.Path
		}
	}
	clean := strings.ReplaceAll(p, "\\", "/")
	if strings.HasPrefix(clean, "/") {
		return "", stalling(cruisev1.ReasonUnsafePath, fmt.Errorf("spec.update.path %q: give a path relative to the repository root", p))
	}
	for _, part := range strings.Split(clean, "/") {
		if part == ".." {
			return "", stalling(cruisev1.ReasonUnsafePath, fmt.Errorf("spec.update.path %q leaves the repository", p))
		}
	}
	return clean, nil
}

// classifyUpdateError decides what a failed gitwrite.Update means: the
// Git errors are a fetch's (refused credentials and the like stall, an
// unreachable remote backs off), a refused push backs off, and a bad
// template or marked file stalls until the spec or the file changes.
func classifyUpdateError(err error) error {
	var pe *phaseError
	switch {
	case errors.As(err, &pe):
		return err
	case errors.Is(err, imageupdate.ErrTemplate):
		return stalling(cruisev1.ReasonInvalidTemplate, err)
	case errors.Is(err, imageupdate.ErrMarker):
		return stalling(cruisev1.ReasonValidationFailed, err)
	case errors.Is(err, gitwrite.ErrRejected):
		return transient(cruisev1.ReasonPushFailed, err)
	}
	pe = asPhaseError(classifyFetchError(err), cruisev1.ReasonPushFailed)
	if pe.Reason == cruisev1.ReasonFetchFailed {
		pe.Reason = cruisev1.ReasonPushFailed
	}
	return pe
}
