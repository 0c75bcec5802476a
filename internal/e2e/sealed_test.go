package e2e_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/config"
	"github.com/cruisegitops/cruise/internal/apply"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
	"github.com/cruisegitops/cruise/internal/render"
	"github.com/cruisegitops/cruise/internal/seal"
	"github.com/cruisegitops/cruise/internal/sealkeys"
)

// controllerSA is the identity the install gives the controller.
const controllerSA = "system:serviceaccount:cruise-system:cruise-controller"

// installRBAC applies config/rbac (the controller's least-privilege
// rights, without the cluster-admin binding) and its ServiceAccount.
func installRBAC(t testing.TB) {
	t.Helper()
	ctx := t.Context()
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: sealkeys.DefaultNamespace}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: sealkeys.DefaultNamespace, Name: "cruise-controller"}},
	} {
		if err := k8s.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	res, err := render.RenderFS(ctx, config.FS, "config", render.Options{Path: "config/rbac"})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := apply.NewEngine(env.Config, apply.EngineOptions{FieldManager: "cruise-test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Apply(ctx, res.Objects, apply.ApplyOptions{}); err != nil {
		t.Fatalf("apply config/rbac: %v", err)
	}
}

// kubeconfigAs writes a kubeconfig that acts as user with groups, through
// impersonation by the test cluster's admin.
func kubeconfigAs(t testing.TB, user string, groups ...string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(env.Cluster.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range cfg.AuthInfos {
		a.Impersonate, a.ImpersonateGroups = user, groups
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// clientAs is a client acting as user with groups.
func clientAs(t testing.TB, user string, groups ...string) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
	scheme, err := clustertest.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// clusterRecipient waits for the cluster's public key, read as reader.
func clusterRecipient(t testing.TB, reader client.Client) *age.X25519Recipient {
	t.Helper()
	var pub string
	clustertest.Eventually(t, time.Minute, func() (bool, error) {
		var err error
		pub, err = sealkeys.Store{Client: reader}.PublicKey(t.Context())
		return err == nil, err
	})
	r, err := age.ParseX25519Recipient(pub)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func sealedSecret(t testing.TB, ns, name string, values map[string]string, to age.Recipient) *cruisev1.SealedSecret {
	t.Helper()
	ss := &cruisev1.SealedSecret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       cruisev1.SealedSecretSpec{EncryptedData: map[string]string{}},
	}
	for k, v := range values {
		b, err := seal.Seal([]byte(v), seal.Strict, seal.Target{Namespace: ns, Name: name, Key: k}, to)
		if err != nil {
			t.Fatal(err)
		}
		ss.Spec.EncryptedData[k] = base64.StdEncoding.EncodeToString(b)
	}
	return ss
}

// sealedReady reports whether Ready is True for the current generation.
func sealedReady(ss *cruisev1.SealedSecret) bool {
	c := meta.FindStatusCondition(ss.Status.Conditions, cruisev1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == ss.Generation
}

func waitSealedReason(t testing.TB, ns, name, reason string) {
	t.Helper()
	clustertest.Eventually(t, time.Minute, func() (bool, error) {
		ss := &cruisev1.SealedSecret{}
		if err := k8s.Get(t.Context(), types.NamespacedName{Namespace: ns, Name: name}, ss); err != nil {
			return false, err
		}
		c := meta.FindStatusCondition(ss.Status.Conditions, cruisev1.ConditionReady)
		if c == nil {
			return false, fmt.Errorf("SealedSecret %s: no Ready condition", name)
		}
		return c.Reason == reason && c.ObservedGeneration == ss.Generation, fmt.Errorf("SealedSecret %s: %s %s: %s", name, c.Status, c.Reason, c.Message)
	})
}

// TestSealedSecretsWithInstalledRBAC runs the controller as its
// ServiceAccount with only the rights config/rbac grants: it creates and
// publishes the keys, unseals, reverts a hand edit, recreates a Secret
// whose type changed, and reports a failure with an event. Any logged-in
// user can read the public key.
func TestSealedSecretsWithInstalledRBAC(t *testing.T) {
	installRBAC(t)
	ns := env.Namespace(t)
	startController(t, "--kubeconfig", kubeconfigAs(t, controllerSA,
		"system:serviceaccounts", "system:serviceaccounts:cruise-system", "system:authenticated"))
	to := clusterRecipient(t, clientAs(t, "jane@example.org", "system:authenticated"))

	ctx := t.Context()
	if err := k8s.Create(ctx, sealedSecret(t, ns, "db", map[string]string{"password": "pw-1"}, to)); err != nil {
		t.Fatal(err)
	}
	waitSealedReason(t, ns, "db", cruisev1.ReasonUnsealed)
	secret := func() *corev1.Secret {
		s := &corev1.Secret{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "db"}, s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := secret()
	s.Data["password"] = []byte("edited")
	if err := k8s.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	clustertest.Eventually(t, time.Minute, func() (bool, error) {
		return string(secret().Data["password"]) == "pw-1", fmt.Errorf("hand edit not reverted")
	})

	ss := &cruisev1.SealedSecret{}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "db"}, ss); err != nil {
		t.Fatal(err)
	}
	ss.Spec.Template.Type = "example.com/db"
	if err := k8s.Update(ctx, ss); err != nil {
		t.Fatal(err)
	}
	clustertest.Eventually(t, time.Minute, func() (bool, error) {
		return secret().Type == "example.com/db", fmt.Errorf("Secret not recreated with its new type")
	})

	stranger, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	if err := k8s.Create(ctx, sealedSecret(t, ns, "lost", map[string]string{"k": "v"}, stranger.Recipient())); err != nil {
		t.Fatal(err)
	}
	waitSealedReason(t, ns, "lost", cruisev1.ReasonUnsealFailed)
	clustertest.Eventually(t, 30*time.Second, func() (bool, error) {
		list, err := env.Client.EventsV1().Events(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, e := range list.Items {
			if e.Regarding.Name == "lost" && e.Reason == cruisev1.ReasonUnsealFailed && e.Type == corev1.EventTypeWarning {
				return true, nil
			}
		}
		return false, fmt.Errorf("no UnsealFailed event")
	})
}
