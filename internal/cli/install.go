package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/config"
	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/render"
	"github.com/cruisegitops/cruise/internal/sealkeys"
)

// Where `cruise install` puts things. The manifests themselves (config/)
// name the namespace, the Deployment and its container; a test checks that
// they agree with these constants.
const (
	// installNamespace is the namespace of the controller.
	installNamespace = "cruise-system"
	// installInventoryName and installInventoryNamespace name the inventory
	// of the install: the ConfigMap kube-system/cruise-inventory-cruise-install.
	// It lives in kube-system, which every cluster has, because the
	// inventory is written before cruise-system exists and must outlive it
	// while uninstall deletes it.
	installInventoryName      = "cruise-install"
	installInventoryNamespace = "kube-system"
	// controllerDeployment and controllerContainer are what --image sets.
	controllerDeployment = "cruise-controller"
	controllerContainer  = "controller"
	// defaultImageRepository is the image the default tag is appended to;
	// `make image` builds it.
	defaultImageRepository = "cruise"
)

// InstallOptions configures `cruise install`.
type InstallOptions struct {
	// Cluster says which cluster; only its kubeconfig fields come from
	// flags, the inventory is fixed (installInventoryName).
	Cluster ClusterOptions
	// Print writes the manifests to stdout instead of applying them.
	Print bool
	// Image is the controller's container image; default cruise:<version>.
	Image string
	// MultiTenant leaves out the cluster-admin binding
	// cruise-controller-apply (config/multi-tenant).
	MultiTenant bool
	// Server adds cruise server (config/server: web UI, API and the
	// built-in authorization server), reachable at PublicURL.
	Server    bool
	PublicURL string
	// Wait waits up to Timeout for every object to become Current.
	Wait bool
	// Timeout bounds Wait; default 5m.
	Timeout time.Duration
}

func newInstallCommand() *cobra.Command {
	opts := &InstallOptions{Cluster: installClusterOptions(), Timeout: 5 * time.Minute}
	cmd := &cobra.Command{
		Use:   "install [--print] [--image IMAGE] [--multi-tenant] [--server --public-url URL] [--wait]",
		Short: "Install the cruise controller, its CRDs and RBAC into a cluster",
		Long: `Install the in-cluster controller: the CRDs GitRepository and Application,
the namespace ` + installNamespace + `, the ServiceAccount and RBAC, the Deployment
and the Services cruise-webhook (push webhooks, port 80) and cruise-metrics
(port 8080). The manifests are the kustomize base config/default of cruise's
repository, built into this binary.

The install is applied with server-side apply and recorded in the inventory
ConfigMap ` + installInventoryNamespace + `/cruise-inventory-` + installInventoryName + `. Running install again
upgrades: changed objects are updated, objects the new version no longer
has are deleted.

By default the controller is bound to cluster-admin
(ClusterRoleBinding cruise-controller-apply) so Applications without a
serviceAccountName can apply anything. With --multi-tenant that binding is
left out (and removed if an earlier install made it): every Application must
then name a serviceAccountName, and the controller can do only what those
ServiceAccounts may. Whoever may create Applications without a
serviceAccountName can act as cluster-admin, so in the default mode grant
that only to cluster administrators.

--server adds cruise server (the web UI, the API and the built-in
authorization server; config/server): a Deployment and the Service
cruise-server (port 80). Expose it through an ingress with TLS at
--public-url. Its ServiceAccount may only impersonate users and groups and
list Namespaces.

--print writes the manifests to stdout and contacts no cluster.

Exit codes:
  0  installed (and, with --wait, every object Current)
  1  installed, but not every object became Current within --timeout
  2  error: bad flags, an unreachable cluster, a rejected object`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runInstall(cmd.Context(), cmd.OutOrStdout(), opts)
		},
	}
	cmd.SetFlagErrorFunc(flagError)
	fs := cmd.Flags()
	addKubeconfigFlags(fs, &opts.Cluster)
	fs.BoolVar(&opts.Print, "print", opts.Print, "print the manifests instead of installing them; nothing is changed")
	fs.StringVar(&opts.Image, "image", opts.Image, "container image of the controller (default "+defaultImage()+")")
	fs.BoolVar(&opts.MultiTenant, "multi-tenant", opts.MultiTenant, "leave out the cluster-admin binding: Applications must name a serviceAccountName")
	fs.BoolVar(&opts.Server, "server", opts.Server, "also install cruise server (web UI and API)")
	fs.StringVar(&opts.PublicURL, "public-url", opts.PublicURL, "with --server: the https URL users reach the server at")
	fs.BoolVar(&opts.Wait, "wait", opts.Wait, "wait for every installed object, the controller included, to become healthy")
	fs.DurationVar(&opts.Timeout, "timeout", opts.Timeout, "how long --wait waits")
	return cmd
}

// installClusterOptions are the ClusterOptions of install and uninstall:
// the fixed inventory, nothing but kubeconfig flags.
func installClusterOptions() ClusterOptions {
	o := defaultClusterOptions()
	o.Name, o.InventoryNamespace = installInventoryName, installInventoryNamespace
	return o
}

// addKubeconfigFlags binds the flags that choose the cluster, as
// ClusterOptions.addFlags does, without the inventory and namespace ones.
func addKubeconfigFlags(fs *pflag.FlagSet, o *ClusterOptions) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "kubeconfig file (default $KUBECONFIG, else ~/.kube/config)")
	fs.StringVar(&o.Context, "context", o.Context, "kubeconfig context to use (default its current context)")
	fs.DurationVar(&o.RequestTimeout, "request-timeout", o.RequestTimeout, "time limit for each request to the API server")
}

func (o *InstallOptions) validate() error {
	if err := o.Cluster.validate(); err != nil {
		return err
	}
	if o.Server != (o.PublicURL != "") {
		return errors.New("--server and --public-url go together")
	}
	if o.Server && !strings.HasPrefix(o.PublicURL, "https://") {
		return fmt.Errorf("invalid --public-url %q: must be https (browsers reach the server through TLS)", o.PublicURL)
	}
	if o.Image != "" && strings.IndexFunc(o.Image, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return fmt.Errorf("invalid --image %q: must not contain spaces or control characters", o.Image)
	}
	if o.Print && o.Wait {
		return errors.New("--print and --wait do not go together: --print installs nothing")
	}
	if o.Wait && o.Timeout <= 0 {
		return fmt.Errorf("invalid --timeout %s: must be positive", o.Timeout)
	}
	return nil
}

func runInstall(ctx context.Context, out io.Writer, o *InstallOptions) error {
	if err := o.validate(); err != nil {
		return fail(2, err)
	}
	image := o.Image
	if image == "" {
		image = defaultImage()
	}
	objs, err := renderInstall(ctx, o.MultiTenant, image)
	if err != nil {
		return fail(2, err)
	}
	if o.Server {
		srv, err := renderServer(ctx, image, o.PublicURL)
		if err != nil {
			return fail(2, err)
		}
		objs = append(objs, srv...)
		// Notifications link to the Application in the server.
		if err := addControllerArg(objs, "--server-url="+o.PublicURL); err != nil {
			return fail(2, err)
		}
	}
	if o.Print {
		if err := render.WriteYAML(out, objs); err != nil {
			return fail(2, err)
		}
		return nil
	}
	c, err := o.Cluster.connect()
	if err != nil {
		return fail(2, err)
	}
	opts := apply.ApplyOptions{
		Owner:      c.owner,
		Inventory:  c.inventory,
		Namespaces: apply.Namespaces{Default: installNamespace},
		// Upgrades remove what the new version no longer has; switching to
		// --multi-tenant removes the cluster-admin binding.
		Prune: true,
		Progress: func(e apply.Event) {
			switch e.Type {
			case apply.EventApplied, apply.EventPruned:
				fmt.Fprintln(out, changeLine(e.Change, false))
			case apply.EventHealth:
				fmt.Fprintln(out, healthLine(e.Health))
			}
		},
	}
	if o.Wait {
		opts.WaitTimeout = o.Timeout
	}
	res, err := c.engine.Apply(ctx, objs, opts)
	if err != nil && !errors.Is(err, apply.ErrUnhealthy) {
		return fail(2, fmt.Errorf("install: %w", err))
	}
	var notReady []apply.Health
	for _, h := range res.Health {
		if h.Status != apply.Current {
			notReady = append(notReady, h)
		}
	}
	if len(notReady) > 0 {
		fmt.Fprintf(out, "Not healthy (waited up to %s):\n", o.Timeout)
		for _, h := range notReady {
			fmt.Fprintln(out, "  "+healthLine(h))
		}
	}
	actions := make([]apply.Action, len(res.Changes))
	for i, ch := range res.Changes {
		actions[i] = ch.Action
	}
	mode := ""
	if o.MultiTenant {
		mode = ", multi-tenant"
	}
	summary := fmt.Sprintf("installed cruise (image %s%s) into namespace %s: %s", image, mode, installNamespace, countActions(actions, nil))
	if len(res.Health) > 0 && len(notReady) == 0 {
		summary += fmt.Sprintf("; all %d objects Current", len(res.Health))
	}
	fmt.Fprintln(out, summary)
	if err != nil {
		return fail(1, err)
	}
	return nil
}

// renderInstall builds config/default (config/multi-tenant when
// multiTenant) from the manifests embedded in the binary and sets the
// controller's image.
func renderInstall(ctx context.Context, multiTenant bool, image string) ([]render.Object, error) {
	overlay := "config/default"
	if multiTenant {
		overlay = "config/multi-tenant"
	}
	objs, err := renderConfig(ctx, overlay)
	if err != nil {
		return nil, err
	}
	if err := setImage(objs, image); err != nil {
		return nil, err
	}
	return objs, nil
}

// renderServer builds config/server with image and the public URL.
func renderServer(ctx context.Context, image, publicURL string) ([]render.Object, error) {
	objs, err := renderConfig(ctx, "config/server")
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		if o.GetKind() != "Deployment" || o.GetName() != serverDeployment {
			continue
		}
		containers, _, err := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		if err != nil || len(containers) != 1 {
			return nil, fmt.Errorf("install manifests: Deployment/%s: want one container (%v)", serverDeployment, err)
		}
		c := containers[0].(map[string]any)
		c["image"] = image
		args, _ := c["args"].([]any)
		for i, a := range args {
			if s, ok := a.(string); ok && strings.HasPrefix(s, "--public-url=") {
				args[i] = "--public-url=" + publicURL
			}
		}
		return objs, unstructured.SetNestedSlice(o.Object, containers, "spec", "template", "spec", "containers")
	}
	return nil, fmt.Errorf("install manifests: no Deployment/%s", serverDeployment)
}

// serverDeployment is config/server's Deployment.
const serverDeployment = "cruise-server"

// renderConfig renders a kustomization of the embedded config/ tree, e.g.
// "config/default" or "config/crd".
func renderConfig(ctx context.Context, path string) ([]render.Object, error) {
	res, err := render.RenderFS(ctx, config.FS, "config", render.Options{Path: path})
	if err != nil {
		return nil, fmt.Errorf("install manifests: %w", err)
	}
	return res.Objects, nil
}

// setImage sets the image of the controller container.
func setImage(objs []render.Object, image string) error {
	return editController(objs, func(m map[string]any) { m["image"] = image })
}

// addControllerArg adds a flag to the controller container's args.
func addControllerArg(objs []render.Object, arg string) error {
	return editController(objs, func(m map[string]any) {
		args, _ := m["args"].([]any)
		m["args"] = append(args, arg)
	})
}

// editController changes the controller container.
func editController(objs []render.Object, edit func(map[string]any)) error {
	for _, o := range objs {
		if o.GetKind() != "Deployment" || o.GetName() != controllerDeployment {
			continue
		}
		containers, _, err := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		if err != nil {
			return fmt.Errorf("install manifests: Deployment/%s: %w", controllerDeployment, err)
		}
		for i, c := range containers {
			if m, ok := c.(map[string]any); ok && m["name"] == controllerContainer {
				edit(m)
				containers[i] = m
				return unstructured.SetNestedSlice(o.Object, containers, "spec", "template", "spec", "containers")
			}
		}
	}
	return fmt.Errorf("install manifests: no container %q in Deployment/%s", controllerContainer, controllerDeployment)
}

// notTagChars are the characters a version may hold that an image tag
// must not ([A-Za-z0-9_.-] only).
var notTagChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// defaultImage is cruise:<version>, the version made a valid tag
// ("v1.2.0+meta" becomes "v1.2.0-meta").
func defaultImage() string {
	tag := strings.TrimLeft(notTagChars.ReplaceAllString(version, "-"), ".-")
	if len(tag) > 128 {
		tag = tag[:128]
	}
	if tag == "" {
		tag = "dev"
	}
	return defaultImageRepository + ":" + tag
}

// UninstallOptions configures `cruise uninstall`.
type UninstallOptions struct {
	// Cluster says which cluster, as for install.
	Cluster ClusterOptions
	// Yes confirms that the CRDs, and with them every GitRepository and
	// Application, are deleted.
	Yes bool
	// Timeout bounds the wait for the controller's Pods to stop before
	// the custom resources are deleted; default 2m.
	Timeout time.Duration
	// DeleteSealingKeys allows deleting the cluster's sealing keys with
	// the namespace.
	DeleteSealingKeys bool
}

func newUninstallCommand() *cobra.Command {
	opts := &UninstallOptions{Cluster: installClusterOptions(), Timeout: 2 * time.Minute}
	cmd := &cobra.Command{
		Use:   "uninstall --yes",
		Short: "Remove everything cruise install installed, CRDs included",
		Long: `Delete everything recorded in the install inventory
` + installInventoryNamespace + `/cruise-inventory-` + installInventoryName + `: the controller, its RBAC and
Services, the namespace ` + installNamespace + ` and the CRDs. Deleting the CRDs
deletes every GitRepository and Application in the cluster, so --yes is
required.

The order keeps what the Applications deployed: the controller goes first;
once its Pods have stopped, the remaining GitRepositories and Applications
are deleted, their cruise.dev finalizers removed (no controller is left to
act on them), and then the CRDs and the namespace. The workloads the
Applications deployed stay in the cluster. To delete those too, delete the
Applications (with prune enabled) while the controller still runs, and
uninstall afterwards.

A Namespace or CRD that still holds objects uninstall does not own (for
example something another inventory deployed into ` + installNamespace + `) is
kept and listed; the inventory then stays, so a second uninstall retries.

Sealed secrets: ` + installNamespace + ` holds the cluster's sealing keys, without
which no SealedSecret in Git can be unsealed again. Uninstall refuses to
delete them unless --delete-sealing-keys is given; back them up first with
cruise secrets backup. The SealedSecrets CRD is kept while SealedSecrets
exist, since deleting one deletes the Secret it unsealed; delete them with
--cascade=orphan to keep those Secrets.

Exit codes:
  0  uninstalled, or nothing was installed
  1  uninstalled, but some objects were kept (listed with the reason)
  2  error, or --yes missing (then nothing was changed)`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runUninstall(cmd.Context(), cmd.OutOrStdout(), opts)
		},
	}
	cmd.SetFlagErrorFunc(flagError)
	fs := cmd.Flags()
	addKubeconfigFlags(fs, &opts.Cluster)
	fs.BoolVar(&opts.Yes, "yes", opts.Yes, "confirm: delete the CRDs and with them every GitRepository and Application")
	fs.DurationVar(&opts.Timeout, "timeout", opts.Timeout, "how long to wait for the controller's Pods to stop")
	fs.BoolVar(&opts.DeleteSealingKeys, "delete-sealing-keys", false,
		"also delete the cluster's sealing keys (back them up first: cruise secrets backup)")
	return cmd
}

func runUninstall(ctx context.Context, out io.Writer, o *UninstallOptions) error {
	if !o.Yes {
		return fail(2, errors.New("uninstall deletes cruise's CRDs and with them every GitRepository and Application in the cluster "+
			"(what they deployed stays); run `cruise uninstall --yes` to confirm"))
	}
	if err := o.Cluster.validate(); err != nil {
		return fail(2, err)
	}
	if o.Timeout <= 0 {
		return fail(2, fmt.Errorf("invalid --timeout %s: must be positive", o.Timeout))
	}
	c, err := o.Cluster.connect()
	if err != nil {
		return fail(2, err)
	}
	u := &uninstaller{out: out, cluster: c, timeout: o.Timeout, deleteKeys: o.DeleteSealingKeys}
	return u.run(ctx)
}

// uninstaller removes what install installed; see newUninstallCommand for
// the order.
type uninstaller struct {
	out     io.Writer
	cluster *cluster
	// timeout bounds the wait for the controller's Pods to stop.
	timeout time.Duration
	// deleteKeys allows deleting the sealing keys with the namespace.
	deleteKeys bool
}

// sealedSecretsCRDKey is the SealedSecret CRD's key in a prune result.
var sealedSecretsCRDKey = apply.ObjRef{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition", Name: "sealedsecrets.cruise.dev"}.Key()

// checkSealingKeys refuses, before anything is deleted, to take the
// cluster's sealing keys away with the namespace unless asked to.
func (u *uninstaller) checkSealingKeys(ctx context.Context) error {
	if u.deleteKeys {
		return nil
	}
	key := client.ObjectKey{Namespace: installNamespace, Name: sealkeys.SecretName}
	err := u.cluster.engine.Client().Get(ctx, key, &corev1.Secret{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check for the sealing keys %s: %w", key, err)
	}
	return fmt.Errorf("namespace %s holds the cluster's sealing keys (Secret %s): without them no SealedSecret can be unsealed again; "+
		"back them up with `cruise secrets backup --recipient FILE > keys.age`, then run `cruise uninstall --yes --delete-sealing-keys`",
		installNamespace, sealkeys.SecretName)
}

func (u *uninstaller) run(ctx context.Context) error {
	inventory := installInventoryNamespace + "/cruise-inventory-" + installInventoryName
	recorded, err := u.cluster.inventory.Load(ctx)
	if err != nil {
		return fail(2, err)
	}
	if len(recorded) == 0 {
		fmt.Fprintf(u.out, "cruise is not installed: the inventory ConfigMap %s does not exist or is empty\n", inventory)
		return nil
	}
	if err := u.checkSealingKeys(ctx); err != nil {
		return fail(2, err)
	}
	res, err := u.prune(ctx)
	if err != nil {
		return fail(2, err)
	}
	// Objects kept, by key: a second pass replaces what it looks at again.
	kept := map[string]apply.Change{}
	var order []string
	pruned := 0
	note := func(res *apply.Result) {
		for _, ch := range res.Changes {
			if ch.Action == apply.Pruned {
				pruned++
			}
			k := ch.Ref.Key()
			if _, seen := kept[k]; !seen {
				order = append(order, k)
			}
			delete(kept, k)
			if ch.Action == apply.PruneSkipped {
				kept[k] = ch
			}
		}
	}
	note(res)
	deleted := 0
	left, err := u.cluster.inventory.Load(ctx)
	if err != nil {
		return fail(2, err)
	}
	if recordsCRD(left) {
		// A CRD was kept: it holds GitRepositories or Applications. Delete
		// those once no controller is left to act on their deletion.
		if err := u.waitControllerStopped(ctx); err != nil {
			return fail(2, err)
		}
		if deleted, err = u.deleteCustomResources(ctx); err != nil {
			return fail(2, err)
		}
		if res, err = u.prune(ctx); err != nil {
			return fail(2, err)
		}
		note(res)
	}

	if len(kept) > 0 {
		fmt.Fprintln(u.out, "Kept:")
		for _, k := range order {
			if ch, ok := kept[k]; ok {
				fmt.Fprintln(u.out, "  "+changeLine(ch, false))
			}
		}
		hint := ""
		if _, ok := kept[sealedSecretsCRDKey]; ok {
			hint = "; SealedSecrets own the Secrets they unsealed: to keep those Secrets, delete the SealedSecrets with " +
				"`kubectl delete sealedsecrets.cruise.dev --all -A --cascade=orphan`"
		}
		return fail(1, fmt.Errorf("%d object(s) kept, see above; remove what they hold and run `cruise uninstall --yes` again "+
			"(the inventory %s keeps what is left)%s", len(kept), inventory, hint))
	}
	cm := &unstructured.Unstructured{}
	cm.SetAPIVersion("v1")
	cm.SetKind("ConfigMap")
	cm.SetNamespace(installInventoryNamespace)
	cm.SetName("cruise-inventory-" + installInventoryName)
	if err := u.cluster.engine.Client().Delete(ctx, cm); client.IgnoreNotFound(err) != nil {
		return fail(2, fmt.Errorf("delete the inventory ConfigMap %s: %w", inventory, err))
	}
	fmt.Fprintf(u.out, "uninstalled cruise: %d objects pruned, %d GitRepositories and Applications deleted\n", pruned, deleted)
	return nil
}

// prune deletes every object of the install inventory that can go now,
// printing each one.
func (u *uninstaller) prune(ctx context.Context) (*apply.Result, error) {
	return u.cluster.engine.Apply(ctx, nil, apply.ApplyOptions{
		Owner:     u.cluster.owner,
		Inventory: u.cluster.inventory,
		Prune:     true,
		Progress: func(e apply.Event) {
			if e.Type == apply.EventPruned && e.Change.Action == apply.Pruned {
				fmt.Fprintln(u.out, changeLine(e.Change, false))
			}
		},
	})
}

// recordsCRD reports whether refs hold a CustomResourceDefinition.
func recordsCRD(refs []apply.ObjRef) bool {
	for _, r := range refs {
		if r.Kind == "CustomResourceDefinition" && r.Group == "apiextensions.k8s.io" {
			return true
		}
	}
	return false
}

// waitControllerStopped waits until no Pod of the controller Deployment
// (deleted by the first prune) is left.
func (u *uninstaller) waitControllerStopped(ctx context.Context) error {
	var left int
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, u.timeout, true, func(ctx context.Context) (bool, error) {
		pods := &corev1.PodList{}
		err := u.cluster.engine.Client().List(ctx, pods, client.InNamespace(installNamespace),
			client.MatchingLabels{"app.kubernetes.io/name": "cruise", "app.kubernetes.io/component": "controller"})
		if err != nil {
			return false, fmt.Errorf("list the controller's Pods in %s: %w", installNamespace, err)
		}
		left = len(pods.Items)
		return left == 0, nil
	})
	if err != nil && left > 0 {
		return fmt.Errorf("%d Pod(s) of the controller still running in %s after %s (see --timeout); "+
			"GitRepositories and Applications were not deleted", left, installNamespace, u.timeout)
	}
	return err
}

// deleteCustomResources deletes every Application and GitRepository in the
// cluster, first removing the finalizers of the cruise.dev domain: the
// controller that would remove them is gone. It returns how many it
// deleted.
func (u *uninstaller) deleteCustomResources(ctx context.Context) (int, error) {
	c := u.cluster.engine.Client()
	n := 0
	for _, kind := range []string{v1alpha1.ApplicationKind, v1alpha1.GitRepositoryKind} {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(kind + "List"))
		err := c.List(ctx, list)
		if meta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
			continue // the CRD is gone already
		}
		if err != nil {
			return n, fmt.Errorf("list %s objects: %w", kind, err)
		}
		for i := range list.Items {
			obj := &list.Items[i]
			id := kind + "/" + obj.GetNamespace() + "/" + obj.GetName()
			var keep []string
			for _, f := range obj.GetFinalizers() {
				if !strings.HasPrefix(f, v1alpha1.GroupVersion.Group+"/") {
					keep = append(keep, f)
				}
			}
			if len(keep) != len(obj.GetFinalizers()) {
				orig := obj.DeepCopy()
				obj.SetFinalizers(keep)
				if err := c.Patch(ctx, obj, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); client.IgnoreNotFound(err) != nil {
					return n, fmt.Errorf("remove the finalizers of %s: %w", id, err)
				}
			}
			if err := c.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
				return n, fmt.Errorf("delete %s: %w", id, err)
			}
			fmt.Fprintln(u.out, id+" deleted")
			n++
		}
	}
	return n, nil
}
