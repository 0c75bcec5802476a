package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
)

// newGetImageCommand is `cruise get image repository|policy|update
// [NAME]`: get's table of the image automation kinds.
func newGetImageCommand(opts *GetOptions) *cobra.Command {
	cmd := verbCommand("image (repository|policy|update) [NAME]", "Show ImageRepositories, ImagePolicies or ImageUpdateAutomations", "")
	for _, k := range imageKinds {
		cmd.AddCommand(&cobra.Command{
			Use:     strings.TrimPrefix(k.noun(), "image ") + " [NAME]",
			Short:   "Show " + k.plural(),
			Aliases: imageAliases[k],
			Args:    optionalName,
			RunE: func(cmd *cobra.Command, args []string) error {
				name := ""
				if len(args) == 1 {
					name = args[0]
				}
				return runGet(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), opts, k, name)
			},
		})
	}
	return cmd
}

func newGetImagesCommand(opts *GetOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "images",
		Short: "Show each ImagePolicy's image and chosen tag",
		Long: `Show each ImagePolicy's image and the tag it chose: NAMESPACE (with -A),
POLICY, IMAGE, TAG, READY (the policy's Ready condition), HELD (the version an
ImageUpdateAutomation holds back after a rollback, and which automation; lift
it with cruise resume image update NAME) and MESSAGE.

-o json and -o yaml print the same rows as {"items": [...]}.

Examples:
  cruise get images
  cruise get images -A -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fail(2, fmt.Errorf("%s takes no NAME: for one policy use cruise get image policy %s", cmd.CommandPath(), args[0]))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runGetImages(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), opts)
		},
	}
}

// imageRow is one line of `cruise get images`.
type imageRow struct {
	Namespace string `json:"namespace"`
	Policy    string `json:"policy"`
	// Image is the policy's chosen image name, else its ImageRepository's
	// image.
	Image   string      `json:"image"`
	Tag     string      `json:"tag"`
	Digest  string      `json:"digest,omitempty"`
	Ready   string      `json:"ready"`
	Message string      `json:"message,omitempty"`
	Held    []imageHold `json:"held,omitempty"`
}

// imageHold is a version an ImageUpdateAutomation holds for the policy.
type imageHold struct {
	Automation string    `json:"automation"`
	Image      string    `json:"image"`
	Commit     string    `json:"commit,omitempty"`
	Since      time.Time `json:"since"`
}

// imageRows is the output of `cruise get images -o json|yaml`.
type imageRows struct {
	Items []imageRow `json:"items"`
}

func runGetImages(ctx context.Context, out, errOut io.Writer, o *GetOptions) error {
	if err := clusterOnly(&o.API, "get", kindImagePolicy); err != nil {
		return err
	}
	kc, err := o.Kube.connect()
	if err != nil {
		return err
	}
	ns := kc.namespace
	var in []client.ListOption
	if o.AllNamespaces {
		ns = ""
	} else {
		in = append(in, client.InNamespace(ns))
	}
	policies := &v1alpha1.ImagePolicyList{}
	if err := kc.List(ctx, policies, in...); err != nil {
		return apiError(err, kindImagePolicy, ns, "")
	}
	// Repositories name the image of policies that chose nothing yet, and
	// automations hold versions: both are extras, so a refusal to list
	// them costs a note, not the table.
	repos := &v1alpha1.ImageRepositoryList{}
	if err := kc.List(ctx, repos, in...); err != nil {
		fmt.Fprintf(errOut, "note: %v: IMAGE is blank for policies that chose no tag yet\n", oneLineError{apiError(err, kindImageRepository, ns, "")})
	}
	autos := &v1alpha1.ImageUpdateAutomationList{}
	if err := kc.List(ctx, autos, in...); err != nil {
		fmt.Fprintf(errOut, "note: %v: HELD is not shown\n", oneLineError{apiError(err, kindImageUpdateAutomation, ns, "")})
	}
	rows := policyRows(policies.Items, repoImages(ctx, kc, policies.Items, repos.Items), holdsByPolicy(autos.Items))
	if o.Output != formatTable {
		return printObject(out, imageRows{Items: rows}, o.Output)
	}
	if len(rows) == 0 {
		fmt.Fprintf(errOut, "no %s found %s\n", kindImagePolicy.plural(), where(ns))
		return nil
	}
	return writeImagesTable(out, rows, o.AllNamespaces)
}

// repoImages maps "namespace/name" of the policies' ImageRepositories to
// their image. Repositories outside the listed ones (another namespace)
// are read one by one; one that cannot be read is left out.
func repoImages(ctx context.Context, kc *kube, policies []v1alpha1.ImagePolicy, repos []v1alpha1.ImageRepository) map[string]string {
	images := map[string]string{}
	for _, r := range repos {
		images[r.Namespace+"/"+r.Name] = cmp.Or(r.Status.CanonicalImageName, r.Spec.Image)
	}
	for _, p := range policies {
		if p.Status.LatestRef != nil && p.Status.LatestRef.Name != "" {
			continue
		}
		key := client.ObjectKey{Namespace: cmp.Or(p.Spec.ImageRepositoryRef.Namespace, p.Namespace), Name: p.Spec.ImageRepositoryRef.Name}
		if _, ok := images[key.String()]; ok {
			continue
		}
		r := &v1alpha1.ImageRepository{}
		if err := kc.Get(ctx, key, r); err == nil {
			images[key.String()] = cmp.Or(r.Status.CanonicalImageName, r.Spec.Image)
		}
	}
	return images
}

// holdsByPolicy maps "namespace/name" of policies to the holds of the
// automations on them.
func holdsByPolicy(autos []v1alpha1.ImageUpdateAutomation) map[string][]imageHold {
	holds := map[string][]imageHold{}
	for _, a := range autos {
		for _, h := range a.Status.Held {
			holds[h.Policy] = append(holds[h.Policy], imageHold{Automation: a.Namespace + "/" + a.Name,
				Image: h.Ref.String(), Commit: h.Commit, Since: h.Since.Time})
		}
	}
	return holds
}

// policyRows makes the rows of get images, sorted by namespace and name.
func policyRows(policies []v1alpha1.ImagePolicy, images map[string]string, holds map[string][]imageHold) []imageRow {
	rows := make([]imageRow, 0, len(policies))
	for i := range policies {
		p := &policies[i]
		s := statusOf(p)
		row := imageRow{Namespace: p.Namespace, Policy: p.Name, Ready: s.readyStatus(), Message: s.readyMessage(),
			Held: holds[p.Namespace+"/"+p.Name]}
		if ref := p.Status.LatestRef; ref != nil {
			row.Image, row.Tag, row.Digest = ref.Name, ref.Tag, ref.Digest
		}
		if row.Image == "" {
			row.Image = images[cmp.Or(p.Spec.ImageRepositoryRef.Namespace, p.Namespace)+"/"+p.Spec.ImageRepositoryRef.Name]
		}
		rows = append(rows, row)
	}
	slices.SortFunc(rows, func(a, b imageRow) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Policy, b.Policy))
	})
	return rows
}

// writeImagesTable prints get images' table; with namespaces, a
// NAMESPACE column comes first.
func writeImagesTable(out io.Writer, rows []imageRow, namespaces bool) error {
	header := "POLICY\tIMAGE\tTAG\tREADY\tHELD\tMESSAGE"
	if namespaces {
		header = "NAMESPACE\t" + header
	}
	cells := make([][]string, 0, len(rows))
	for _, r := range rows {
		var held []string
		for _, h := range r.Held {
			// The automation is in the policy's namespace: its name says
			// enough.
			_, auto, _ := strings.Cut(h.Automation, "/")
			held = append(held, tagOf(h.Image)+" by "+auto)
		}
		row := []string{r.Policy, r.Image, r.Tag, r.Ready, strings.Join(held, ", "), r.Message}
		if namespaces {
			row = append([]string{r.Namespace}, row...)
		}
		cells = append(cells, row)
	}
	return writeTable(out, header, cells)
}

// tagOf is the tag of "name:tag[@digest]", as ImageRef.String writes it.
func tagOf(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(ref, ":"); i >= 0 && !strings.Contains(ref[i:], "/") {
		return ref[i+1:]
	}
	return ref
}
