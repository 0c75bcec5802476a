package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
)

// This file holds what the resource commands need to know of the image
// automation kinds: how the command line names them ("image repository
// NAME") and what get shows of them.

// imageKinds are the image automation kinds in the order the command line
// lists them.
var imageKinds = []kind{kindImageRepository, kindImagePolicy, kindImageUpdateAutomation}

// isImage reports whether k is one of the image automation kinds.
func (k kind) isImage() bool {
	return k == kindImageRepository || k == kindImagePolicy || k == kindImageUpdateAutomation
}

// plural names several objects of the kind in messages.
func (k kind) plural() string {
	if s, ok := strings.CutSuffix(string(k), "y"); ok {
		return s + "ies"
	}
	return string(k) + "s"
}

// imageAliases are the other names each image subcommand answers to:
// plurals and the kinds' own names, as kubectl spells them.
var imageAliases = map[kind][]string{
	kindImageRepository:       {"repositories", "repo", "repos", "imagerepository", "imagerepositories"},
	kindImagePolicy:           {"policies", "imagepolicy", "imagepolicies"},
	kindImageUpdateAutomation: {"updates", "automation", "automations", "imageupdateautomation", "imageupdateautomations"},
}

// imageKindCommand is the "image" subcommand of a verb (short is its help
// line), with one subcommand per image kind that shorts names: "image
// repository NAME", "image policy NAME", "image update NAME". run
// receives the kind and NAME. Called without a kind, it fails as
// verbCommand does.
func imageKindCommand(short string, shorts map[kind]string, run func(cmd *cobra.Command, k kind, name string) error) *cobra.Command {
	cmd := verbCommand("image (repository|policy|update) NAME", short, "")
	for _, k := range imageKinds {
		short, ok := shorts[k]
		if !ok {
			continue
		}
		cmd.AddCommand(&cobra.Command{
			Use:     strings.TrimPrefix(k.noun(), "image ") + " NAME",
			Short:   short,
			Aliases: imageAliases[k],
			Args:    kindArgs(k),
			RunE:    func(cmd *cobra.Command, args []string) error { return run(cmd, k, args[0]) },
		})
	}
	return cmd
}

// clusterOnly is the session of a command about a kind the cruise
// server's API cannot act on (anything but Applications): the cluster is
// used unless --server asked for the API, which is an error.
func clusterOnly(o *APIOptions, verb string, k kind) error {
	if o.Server != "" {
		return fail(2, fmt.Errorf("the cruise server's API cannot %s %s: use --kubeconfig or --context instead of --server", verb, k.plural()))
	}
	return nil
}

// imageStatusOf fills what objectStatus shows of an image automation
// object and returns its conditions. Revision is what the object last
// produced: the tag count of a repository's last scan, a policy's chosen
// image, an automation's last pushed commit (shortened).
func imageStatusOf(obj client.Object, s *objectStatus) []metav1.Condition {
	switch o := obj.(type) {
	case *v1alpha1.ImageRepository:
		s.Kind, s.Suspended, s.LastHandledReconcileAt = kindImageRepository, o.Spec.Suspend, o.Status.LastHandledReconcileAt
		if r := o.Status.LastScanResult; r != nil {
			s.Revision = fmt.Sprintf("%d tags", r.TagCount)
		}
		return o.Status.Conditions
	case *v1alpha1.ImagePolicy:
		s.Kind, s.LastHandledReconcileAt = kindImagePolicy, o.Status.LastHandledReconcileAt
		s.Revision = o.Status.LatestRef.String()
		return o.Status.Conditions
	case *v1alpha1.ImageUpdateAutomation:
		s.Kind, s.Suspended, s.LastHandledReconcileAt = kindImageUpdateAutomation, o.Spec.Suspend, o.Status.LastHandledReconcileAt
		s.Revision = o.Status.LastPushCommit
		if len(s.Revision) > 12 {
			s.Revision = s.Revision[:12]
		}
		return o.Status.Conditions
	}
	return nil
}

// policySuspendError refuses to suspend or resume an ImagePolicy: the kind
// has no spec.suspend (as Flux's), since a policy only chooses a tag.
// Stopping the scans or the commits is what people mean.
func policySuspendError(verb string) error {
	return fmt.Errorf("ImagePolicies cannot be %s: a policy only chooses a tag; %s the ImageRepository it reads (cruise %s image repository NAME) "+
		"or the ImageUpdateAutomation that commits its choice (cruise %s image update NAME)", map[string]string{"suspend": "suspended", "resume": "resumed"}[verb], verb, verb, verb)
}

// releaseHolds resumes an ImageUpdateAutomation and lifts its holds in one
// merge patch: spec.suspend false, and the release-holds and reconcile
// request annotations set to the current time. It returns the value the
// controller echoes in status.lastHandledReconcileAt (and
// lastHandledReleaseAt) once it has run. auto receives the result.
func releaseHolds(ctx context.Context, kc *kube, auto *v1alpha1.ImageUpdateAutomation) (string, error) {
	metadata, at := v1alpha1.ReleaseHoldsRequest(time.Now())
	return at, mergePatch(ctx, kc, auto, map[string]any{"metadata": metadata, "spec": map[string]any{"suspend": false}})
}
