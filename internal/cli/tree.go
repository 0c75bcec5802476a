package cli

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
)

// TreeOptions configures `cruise tree app NAME`.
type TreeOptions struct {
	Kube KubeOptions
}

func newTreeCommand() *cobra.Command {
	opts := &TreeOptions{Kube: defaultKubeOptions()}
	cmd := verbCommand("tree app NAME", "Show the objects an Application manages, with their health",
		`Show an Application and the objects it manages as a tree: cluster-scoped
objects first, then each namespace with the objects in it. Each object shows
its health (kstatus: Current, InProgress, Failed, NotFound, Unknown), whether
it matches Git (Synced, OutOfSync) and, when there is one, a message.

The tree is what the controller last recorded in status.resources (or, before
it recorded health, status.inventory); the objects themselves are not read.`)
	opts.Kube.addFlags(cmd.PersistentFlags())
	cmd.AddCommand(kindCommand(kindApplication, "Show the objects an Application manages",
		func(cmd *cobra.Command, _ kind, name string) error {
			return runTree(cmd.Context(), cmd.OutOrStdout(), opts, name)
		}))
	return cmd
}

func runTree(ctx context.Context, out io.Writer, o *TreeOptions, name string) error {
	kc, err := o.Kube.connect()
	if err != nil {
		return err
	}
	app := &v1alpha1.Application{}
	if err := kc.Get(ctx, client.ObjectKey{Namespace: kc.namespace, Name: name}, app); err != nil {
		return apiError(err, kindApplication, kc.namespace, name)
	}
	_, err = io.WriteString(out, renderTree(app))
	return err
}

// treeNode is one line of the tree below the Application.
type treeNode struct {
	// label is "Kind/name", the namespace being shown by the parent.
	label                 string
	health, sync, message string
	children              []*treeNode
}

// renderTree draws app and its managed objects (status.resources, else
// status.inventory), grouped by namespace:
//
//	Application/apps/web (Ready: True, revision main@sha1:0123456789ab)
//	├── ClusterRole/web-reader   Current      Synced
//	├── Namespace/demo           Current      Synced
//	│   └── Deployment/web       InProgress   Synced   Available: 0/1
//	└── Namespace/other                                (not managed by this Application)
//	    └── Service/web          Current      Synced
func renderTree(app *v1alpha1.Application) string {
	s := statusOf(app)
	head := fmt.Sprintf("%s (Ready: %s", s.ref(), s.readyStatus())
	if s.Revision != "" {
		head += ", revision " + shortRevision(s.Revision)
	}
	if s.Suspended {
		head += ", suspended"
	}
	head += ")\n"

	resources := app.Status.Resources
	if len(resources) == 0 {
		for _, r := range app.Status.Inventory {
			resources = append(resources, v1alpha1.ResourceStatus{ObjectRef: r})
		}
	}
	if len(resources) == 0 {
		return head + "└── (no objects applied yet)\n"
	}

	var roots []*treeNode
	namespaces := map[string]*treeNode{}
	for _, r := range resources {
		if r.Group == "" && r.Kind == "Namespace" {
			n := namespaceNode(namespaces, r.Name)
			n.health, n.sync, n.message = r.Health, r.Sync, r.Message
		}
	}
	for _, r := range sortedResources(resources) {
		n := &treeNode{label: r.Kind + "/" + r.Name, health: r.Health, sync: r.Sync, message: r.Message}
		switch {
		case r.Group == "" && r.Kind == "Namespace":
			continue // a group of its own, added below
		case r.Namespace == "":
			roots = append(roots, n)
		default:
			parent := namespaceNode(namespaces, r.Namespace)
			parent.children = append(parent.children, n)
		}
	}
	names := make([]string, 0, len(namespaces))
	for ns := range namespaces {
		names = append(names, ns)
	}
	slices.Sort(names)
	for _, ns := range names {
		roots = append(roots, namespaces[ns])
	}

	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 4, 3, ' ', 0)
	writeNodes(tw, roots, "")
	_ = tw.Flush() // writes to a buffer
	return head + trimTrailingSpaces(buf.String())
}

// namespaceNode returns the group node of namespace ns, creating it as
// "not managed" when the Application has no Namespace object for it.
func namespaceNode(groups map[string]*treeNode, ns string) *treeNode {
	n, ok := groups[ns]
	if !ok {
		n = &treeNode{label: "Namespace/" + ns, message: "(not managed by this Application)"}
		groups[ns] = n
	}
	return n
}

// sortedResources orders cluster-scoped objects before namespaced ones,
// then by kind and name.
func sortedResources(rs []v1alpha1.ResourceStatus) []v1alpha1.ResourceStatus {
	out := slices.Clone(rs)
	slices.SortStableFunc(out, func(a, b v1alpha1.ResourceStatus) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Group, b.Group), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// writeNodes writes nodes as tab-separated lines, each label prefixed with
// the branches of the tree.
func writeNodes(w io.Writer, nodes []*treeNode, indent string) {
	for i, n := range nodes {
		branch, next := "├── ", "│   "
		if i == len(nodes)-1 {
			branch, next = "└── ", "    "
		}
		msg := strings.Join(strings.Fields(n.message), " ")
		fmt.Fprintf(w, "%s%s%s\t%s\t%s\t%s\n", indent, branch, n.label, n.health, n.sync, msg)
		writeNodes(w, n.children, indent+next)
	}
}
