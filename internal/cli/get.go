package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/cruisegitops/cruise/api/v1alpha1"
)

// objectFormat is the value of -o/--output of get: a table for people,
// json or yaml for machines.
type objectFormat string

const (
	formatTable objectFormat = "table"
	formatJSON  objectFormat = "json"
	formatYAML  objectFormat = "yaml"
)

func (f *objectFormat) String() string { return string(*f) }

func (f *objectFormat) Set(s string) error {
	switch objectFormat(s) {
	case formatTable, formatJSON, formatYAML:
		*f = objectFormat(s)
		return nil
	case "text", "wide":
		*f = formatTable
		return nil
	}
	return fmt.Errorf("unknown output format %q (want table, json or yaml)", s)
}

func (f *objectFormat) Type() string { return "format" }

// GetOptions configures `cruise get sources|apps`.
type GetOptions struct {
	Kube KubeOptions
	// API, when logged in (or with --server), lists through a cruise
	// server instead of the cluster.
	API APIOptions
	// AllNamespaces lists the objects of every namespace.
	AllNamespaces bool
	// Output is table (default), json or yaml.
	Output objectFormat
}

func newGetCommand() *cobra.Command {
	opts := &GetOptions{Kube: defaultKubeOptions(), Output: formatTable}
	cmd := verbCommand("get (sources|apps|images|image KIND) [NAME]", "Show cruise's objects and their status",
		`Show cruise's GitRepositories (sources), Applications (apps) or image
automation objects (image repository|policy|update) in a table: NAME, READY
(the Ready condition), REVISION (the fetched or last applied revision, SHA
shortened; a repository's tag count, a policy's chosen image, an
automation's last pushed commit), SUSPENDED, AGE and MESSAGE (the Ready
message). With -A the objects of every namespace are listed, with a
NAMESPACE column.

cruise get images shows each ImagePolicy's image and chosen tag, and the
version an ImageUpdateAutomation holds after a rollback.

After cruise login (or with --server), the objects are read through the
cruise server's API, unless --kubeconfig or --context is given; apps then
show SYNC, HEALTH and LAST SYNC instead of AGE, -o prints the API's objects,
and the namespace without -n is "default". Image automation objects are
always read from the cluster.

-o json and -o yaml print the objects themselves (a List without NAME).

Examples:
  cruise get apps
  cruise get sources -A
  cruise get app web -n apps -o yaml
  cruise get images -A
  cruise get image policy web`)
	opts.Kube.addFlags(cmd.PersistentFlags())
	opts.API.addFlags(cmd)
	cmd.PersistentFlags().BoolVarP(&opts.AllNamespaces, "all-namespaces", "A", false, "list the objects of every namespace")
	cmd.PersistentFlags().VarP(&opts.Output, "output", "o", "output format: table, json or yaml")

	for _, k := range []kind{kindGitRepository, kindApplication} {
		run := func(cmd *cobra.Command, args []string) error {
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			return runGet(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), opts, k, name)
		}
		sub := &cobra.Command{
			Use:   k.noun() + "s [NAME]",
			Short: "Show " + string(k) + "s",
			Args:  optionalName,
			RunE:  run,
		}
		if k == kindApplication {
			sub.Aliases = []string{"app", "application", "applications"}
			sub.Short = "Show Applications"
		} else {
			sub.Aliases = []string{"source", "gitrepository", "gitrepositories", "gitrepo", "gitrepos"}
			sub.Short = "Show GitRepositories"
			sub.AddCommand(&cobra.Command{Use: "git [NAME]", Short: sub.Short, Args: optionalName, RunE: run})
		}
		cmd.AddCommand(sub)
	}
	cmd.AddCommand(newGetImageCommand(opts), newGetImagesCommand(opts))
	return cmd
}

// optionalName accepts at most one NAME, with exit code 2 otherwise.
func optionalName(cmd *cobra.Command, args []string) error {
	if len(args) > 1 {
		return fail(2, fmt.Errorf("%s: at most one NAME expected, got %s", cmd.CommandPath(), strings.Join(args, " ")))
	}
	return nil
}

func runGet(ctx context.Context, out, errOut io.Writer, o *GetOptions, k kind, name string) error {
	if name != "" && o.AllNamespaces {
		return fail(2, fmt.Errorf("a NAME cannot be combined with --all-namespaces"))
	}
	if k.isImage() {
		if err := clusterOnly(&o.API, "get", k); err != nil {
			return err
		}
	} else if s, err := o.API.session(ctx, &o.Kube); err != nil {
		return err
	} else if s != nil {
		return runGetAPI(ctx, out, errOut, o, s, k, name)
	}
	kc, err := o.Kube.connect()
	if err != nil {
		return err
	}
	var objs []client.Object
	var list client.ObjectList
	if name != "" {
		obj := k.newObject()
		if err := kc.Get(ctx, client.ObjectKey{Namespace: kc.namespace, Name: name}, obj); err != nil {
			return apiError(err, k, kc.namespace, name)
		}
		objs = []client.Object{obj}
	} else {
		list = k.newList()
		var opts []client.ListOption
		ns := ""
		if !o.AllNamespaces {
			ns = kc.namespace
			opts = append(opts, client.InNamespace(ns))
		}
		if err := kc.List(ctx, list, opts...); err != nil {
			return apiError(err, k, ns, "")
		}
		objs = listItems(list)
		slices.SortFunc(objs, func(a, b client.Object) int {
			return cmp.Or(cmp.Compare(a.GetNamespace(), b.GetNamespace()), cmp.Compare(a.GetName(), b.GetName()))
		})
	}

	if o.Output != formatTable {
		for _, obj := range objs {
			obj.SetManagedFields(nil)
			setTypeMeta(obj, kc.Scheme())
		}
		var v runtime.Object = list
		if name != "" {
			v = objs[0]
		} else {
			setTypeMeta(list, kc.Scheme())
			list.SetResourceVersion("")
			emptyItems(list)
		}
		return printObject(out, v, o.Output)
	}
	if len(objs) == 0 {
		where := "in namespace " + kc.namespace
		if o.AllNamespaces {
			where = "in any namespace"
		}
		fmt.Fprintf(errOut, "no %s found %s\n", k.plural(), where)
		return nil
	}
	rows := make([]objectStatus, len(objs))
	for i, obj := range objs {
		rows[i] = statusOf(obj)
	}
	return writeGetTable(out, rows, o.AllNamespaces, time.Now())
}

// emptyItems makes the items of an empty list [] rather than null in
// JSON, as kubectl prints them.
func emptyItems(list client.ObjectList) {
	switch l := list.(type) {
	case *v1alpha1.ApplicationList:
		if l.Items == nil {
			l.Items = []v1alpha1.Application{}
		}
	case *v1alpha1.GitRepositoryList:
		if l.Items == nil {
			l.Items = []v1alpha1.GitRepository{}
		}
	case *v1alpha1.ImageRepositoryList:
		if l.Items == nil {
			l.Items = []v1alpha1.ImageRepository{}
		}
	case *v1alpha1.ImagePolicyList:
		if l.Items == nil {
			l.Items = []v1alpha1.ImagePolicy{}
		}
	case *v1alpha1.ImageUpdateAutomationList:
		if l.Items == nil {
			l.Items = []v1alpha1.ImageUpdateAutomation{}
		}
	}
}

// printObject prints v as indented JSON or as YAML.
func printObject(out io.Writer, v any, f objectFormat) error {
	if f == formatJSON {
		return writeJSON(out, v)
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = out.Write(b)
	return err
}

// writeGetTable prints the objects as get's table; with namespaces, a
// NAMESPACE column comes first. now is the reference of AGE.
func writeGetTable(out io.Writer, rows []objectStatus, namespaces bool, now time.Time) error {
	header := "NAME\tREADY\tREVISION\tSUSPENDED\tAGE\tMESSAGE"
	if namespaces {
		header = "NAMESPACE\t" + header
	}
	cells := make([][]string, 0, len(rows))
	for _, s := range rows {
		age := "<unknown>"
		if !s.Created.IsZero() {
			age = duration.HumanDuration(now.Sub(s.Created))
		}
		row := []string{s.Name, s.readyStatus(), shortRevision(s.Revision), strconv.FormatBool(s.Suspended), age, s.readyMessage()}
		if namespaces {
			row = append([]string{s.Namespace}, row...)
		}
		cells = append(cells, row)
	}
	return writeTable(out, header, cells)
}
