package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/cruisegitops/cruise/api/v1alpha1"
)

// cliFieldManager owns the fields the resource commands write, so that
// `kubectl get --show-managed-fields` tells them from the controller's.
const cliFieldManager = "cruise-cli"

// KubeOptions say which cluster and namespace the resource commands (get,
// create, reconcile, suspend, resume, tree, events, delete) work on. The
// flags behave as kubectl's.
type KubeOptions struct {
	// Kubeconfig is the kubeconfig file; default $KUBECONFIG, else
	// ~/.kube/config.
	Kubeconfig string
	// Context is the kubeconfig context; default its current context.
	Context string
	// Namespace of the objects; default the context's namespace, else
	// "default".
	Namespace string
	// RequestTimeout bounds each request to the API server; 0 means none.
	RequestTimeout time.Duration
}

func defaultKubeOptions() KubeOptions {
	return KubeOptions{RequestTimeout: 30 * time.Second}
}

func (o *KubeOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "kubeconfig file (default $KUBECONFIG, else ~/.kube/config)")
	fs.StringVar(&o.Context, "context", o.Context, "kubeconfig context to use (default its current context)")
	fs.StringVarP(&o.Namespace, "namespace", "n", o.Namespace, "namespace of the objects (default the context's namespace)")
	fs.DurationVar(&o.RequestTimeout, "request-timeout", o.RequestTimeout, "time limit for each request to the API server")
}

func (o *KubeOptions) validate() error {
	if o.Namespace != "" {
		if errs := validation.IsDNS1123Label(o.Namespace); len(errs) > 0 {
			return fmt.Errorf("invalid --namespace %q: %s", o.Namespace, strings.Join(errs, "; "))
		}
	}
	if o.RequestTimeout < 0 {
		return fmt.Errorf("invalid --request-timeout %s: must not be negative", o.RequestTimeout)
	}
	return nil
}

// kube is a client for cruise's kinds and the built-in ones, with the
// namespace the commands default to.
type kube struct {
	client.Client
	// namespace is -n, else the kubeconfig context's, else "default".
	namespace string
}

// connect loads the kubeconfig and builds the client. It does not contact
// the API server yet. Errors are exit code 2.
func (o *KubeOptions) connect() (*kube, error) {
	if err := o.validate(); err != nil {
		return nil, fail(2, err)
	}
	cfg, ns, err := loadKubeconfig(o.Kubeconfig, o.Context, o.Namespace)
	if err != nil {
		return nil, fail(2, err)
	}
	cfg.Timeout = o.RequestTimeout
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, fail(2, err)
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return nil, fail(2, err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fail(2, fmt.Errorf("client for %s: %w", cfg.Host, err))
	}
	return &kube{Client: c, namespace: ns}, nil
}

// exportNamespace is the namespace of an object printed with --export,
// which needs no cluster: -n, else the kubeconfig context's namespace when
// a kubeconfig can be read, else "default".
func (o *KubeOptions) exportNamespace() (string, error) {
	if err := o.validate(); err != nil {
		return "", err
	}
	if o.Namespace != "" {
		return o.Namespace, nil
	}
	if _, ns, err := loadKubeconfig(o.Kubeconfig, o.Context, ""); err == nil {
		return ns, nil
	}
	return "default", nil
}

// loadKubeconfig reads the kubeconfig as kubectl does: the file path, else
// $KUBECONFIG (a list), else ~/.kube/config; context overrides the current
// context and namespace the context's namespace. It returns the config and
// the namespace to use ("default" when nothing names one).
func loadKubeconfig(path, context, namespace string) (*rest.Config, string, error) {
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: path}
	if path == "" {
		if env := os.Getenv(clientcmd.RecommendedConfigPathEnvVar); env != "" {
			rules.Precedence = filepath.SplitList(env)
		} else {
			rules.Precedence = []string{clientcmd.RecommendedHomeFile}
		}
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: context}
	overrides.Context.Namespace = namespace
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig: %w", err)
	}
	return cfg, ns, nil
}

// kind is one of cruise's kinds, as the resource commands handle it.
type kind string

const (
	kindApplication           kind = v1alpha1.ApplicationKind
	kindGitRepository         kind = v1alpha1.GitRepositoryKind
	kindImageRepository       kind = v1alpha1.ImageRepositoryKind
	kindImagePolicy           kind = v1alpha1.ImagePolicyKind
	kindImageUpdateAutomation kind = v1alpha1.ImageUpdateAutomationKind
)

func (k kind) newObject() client.Object {
	switch k {
	case kindApplication:
		return &v1alpha1.Application{}
	case kindImageRepository:
		return &v1alpha1.ImageRepository{}
	case kindImagePolicy:
		return &v1alpha1.ImagePolicy{}
	case kindImageUpdateAutomation:
		return &v1alpha1.ImageUpdateAutomation{}
	}
	return &v1alpha1.GitRepository{}
}

func (k kind) newList() client.ObjectList {
	switch k {
	case kindApplication:
		return &v1alpha1.ApplicationList{}
	case kindImageRepository:
		return &v1alpha1.ImageRepositoryList{}
	case kindImagePolicy:
		return &v1alpha1.ImagePolicyList{}
	case kindImageUpdateAutomation:
		return &v1alpha1.ImageUpdateAutomationList{}
	}
	return &v1alpha1.GitRepositoryList{}
}

// noun is how the command line names the kind: "app", "source", "image
// repository", "image policy" or "image update".
func (k kind) noun() string {
	switch k {
	case kindApplication:
		return "app"
	case kindImageRepository:
		return "image repository"
	case kindImagePolicy:
		return "image policy"
	case kindImageUpdateAutomation:
		return "image update"
	}
	return "source"
}

// listItems returns the objects of a list of any of the kinds.
func listItems(list client.ObjectList) []client.Object {
	var out []client.Object
	switch l := list.(type) {
	case *v1alpha1.ApplicationList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	case *v1alpha1.GitRepositoryList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	case *v1alpha1.ImageRepositoryList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	case *v1alpha1.ImagePolicyList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	case *v1alpha1.ImageUpdateAutomationList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	}
	return out
}

// objectRef names an object in messages: "Application/apps/web".
func objectRef(k kind, namespace, name string) string {
	return string(k) + "/" + namespace + "/" + name
}

// objectStatus is what the commands show of an object of either kind.
type objectStatus struct {
	Kind      kind
	Namespace string
	Name      string
	// Ready and Stalled are the conditions; nil when absent.
	Ready, Stalled *metav1.Condition
	// Revision is the source's artifact revision or the Application's last
	// applied revision.
	Revision  string
	Suspended bool
	// LastHandledReconcileAt is the last reconcile request acted on.
	LastHandledReconcileAt string
	Generation             int64
	Created                time.Time
}

func statusOf(obj client.Object) objectStatus {
	s := objectStatus{Namespace: obj.GetNamespace(), Name: obj.GetName(), Generation: obj.GetGeneration(),
		Created: obj.GetCreationTimestamp().Time}
	var conds []metav1.Condition
	switch o := obj.(type) {
	case *v1alpha1.Application:
		s.Kind, conds = kindApplication, o.Status.Conditions
		s.Revision, s.Suspended = o.Status.LastAppliedRevision, o.Spec.Suspend
		s.LastHandledReconcileAt = o.Status.LastHandledReconcileAt
	case *v1alpha1.GitRepository:
		s.Kind, conds = kindGitRepository, o.Status.Conditions
		if o.Status.Artifact != nil {
			s.Revision = o.Status.Artifact.Revision
		}
		s.Suspended, s.LastHandledReconcileAt = o.Spec.Suspend, o.Status.LastHandledReconcileAt
	default:
		conds = imageStatusOf(obj, &s)
	}
	s.Ready = meta.FindStatusCondition(conds, v1alpha1.ConditionReady)
	s.Stalled = meta.FindStatusCondition(conds, v1alpha1.ConditionStalled)
	return s
}

// ref names the object in messages.
func (s objectStatus) ref() string { return objectRef(s.Kind, s.Namespace, s.Name) }

// readyStatus is "True", "False" or "Unknown" (also when there is no Ready
// condition yet).
func (s objectStatus) readyStatus() string {
	if s.Ready == nil {
		return string(metav1.ConditionUnknown)
	}
	return string(s.Ready.Status)
}

// readyMessage is the Ready condition's message on one line.
func (s objectStatus) readyMessage() string {
	if s.Ready == nil {
		return ""
	}
	return strings.Join(strings.Fields(s.Ready.Message), " ")
}

// apiError turns an error of a request about one object into the
// command's outcome: exit code 2, naming the object; "not found" and a
// missing CRD get messages of their own.
func apiError(err error, k kind, namespace, name string) error {
	ref := objectRef(k, namespace, name)
	if name == "" {
		ref = k.plural() + " in namespace " + namespace
		if namespace == "" {
			ref = k.plural()
		}
	}
	switch {
	case meta.IsNoMatchError(err), discoveryFailed(err):
		// Checked first: a failed discovery may wrap a 404.
		return fail(2, fmt.Errorf("%s: the cluster does not serve %s %s: are cruise's CustomResourceDefinitions installed? (%w)",
			ref, v1alpha1.GroupVersion, k, err))
	case apierrors.IsNotFound(err):
		return fail(2, fmt.Errorf("%s not found", ref))
	}
	return fail(2, fmt.Errorf("%s: %w", ref, err))
}

// discoveryFailed reports whether the API group could not be discovered.
func discoveryFailed(err error) bool {
	var gd *apiutil.ErrResourceDiscoveryFailed
	return errors.As(err, &gd)
}

// setTypeMeta fills in apiVersion and kind, which the client leaves empty
// on typed objects, for printing.
func setTypeMeta(obj runtime.Object, scheme *runtime.Scheme) {
	if gvk, err := apiutil.GVKForObject(obj, scheme); err == nil {
		obj.GetObjectKind().SetGroupVersionKind(gvk)
	}
}

// kindArgs accepts exactly one NAME of kind k, with exit code 2 otherwise.
func kindArgs(k kind) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch len(args) {
		case 1:
			return nil
		case 0:
			return fail(2, fmt.Errorf("%s: the NAME of the %s is missing", cmd.CommandPath(), k))
		}
		return fail(2, fmt.Errorf("%s: one NAME expected, got %d arguments: %s", cmd.CommandPath(), len(args), strings.Join(args, " ")))
	}
}

// kindCommand is the "app" or "source" subcommand of a verb. run receives
// the kind and NAME. The "source" command also answers to
// "source git NAME", the form of Flux's CLI; flags meant for both forms
// must therefore be added to the returned command's PersistentFlags.
func kindCommand(k kind, short string, run func(cmd *cobra.Command, k kind, name string) error) *cobra.Command {
	runE := func(cmd *cobra.Command, args []string) error { return run(cmd, k, args[0]) }
	cmd := &cobra.Command{
		Use:   k.noun() + " NAME",
		Short: short,
		Args:  kindArgs(k),
		RunE:  runE,
	}
	if k == kindApplication {
		cmd.Aliases = []string{"application", "apps", "applications"}
		return cmd
	}
	cmd.Aliases = []string{"sources", "gitrepository", "gitrepositories", "gitrepo"}
	cmd.AddCommand(&cobra.Command{
		Use:   "git NAME",
		Short: short,
		Args:  kindArgs(k),
		RunE:  runE,
	})
	return cmd
}

// verbCommand is a command whose subcommands name the kind ("get apps",
// "reconcile source"); called without one, it fails with exit code 2
// instead of printing its help with exit code 0.
func verbCommand(use, short, long string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var names []string
			for _, c := range cmd.Commands() {
				if c.IsAvailableCommand() {
					names = append(names, c.Name())
				}
			}
			want := strings.Join(names, " or ")
			if len(args) == 0 {
				return fail(2, fmt.Errorf("%s: say what to work on: %s (see %s --help)", cmd.CommandPath(), want, cmd.CommandPath()))
			}
			return fail(2, fmt.Errorf("%s: unknown kind %q: want %s", cmd.CommandPath(), args[0], want))
		},
	}
	cmd.SetFlagErrorFunc(flagError)
	return cmd
}
