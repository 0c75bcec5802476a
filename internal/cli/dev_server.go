package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/internal/devcluster"
	"github.com/cruisegitops/cruise/oauth"
	"github.com/cruisegitops/cruise/oauth/password"
	"github.com/cruisegitops/cruise/oauth/store/sqlstore"
)

// devAdmin is the local account `cruise dev up --server` creates; RBAC
// makes it cluster-admin of the local control plane.
const devAdmin = "admin"

// startDevServer runs `cruise server` against the local control plane on
// addr, with the built-in authorization server and one local account whose
// password it writes to <dir>/admin-password (0600). It returns the URL.
func startDevServer(ctx context.Context, out io.Writer, c *devcluster.Cluster, dir, exe, addr string) error {
	exe, err := devBinary(exe)
	if err != nil {
		return err
	}
	pw := make([]byte, 18)
	if _, err := rand.Read(pw); err != nil {
		return err
	}
	secret := base64.RawURLEncoding.EncodeToString(pw)
	pwFile := filepath.Join(dir, "admin-password")
	if err := os.WriteFile(pwFile, []byte(secret+"\n"), 0o600); err != nil {
		return err
	}
	dsn := "sqlite:" + filepath.Join(dir, "auth.db")
	st, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return fmt.Errorf("open %s: %w", dsn, err)
	}
	u, err := oauth.NewUser(devAdmin, secret, []string{"cruise-admins"}, password.DefaultParams, time.Now())
	if err == nil {
		err = st.CreateUser(ctx, u)
	}
	st.Close()
	if err != nil {
		return fmt.Errorf("create the %s account: %w", devAdmin, err)
	}
	cfg, err := c.RESTConfig()
	if err != nil {
		return err
	}
	kc, err := client.New(cfg, client.Options{})
	if err != nil {
		return err
	}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "cruise-dev-admin"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: devAdmin}}}
	if err := kc.Create(ctx, binding); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("bind %s to cluster-admin: %w", devAdmin, err)
	}
	url := "http://" + addr
	if err := c.Spawn("cruise-server", exe, []string{"server", "--addr", addr, "--public-url", url, "--db", dsn,
		"--kubeconfig", c.Kubeconfig, "--cache-dir", filepath.Join(dir, "server-cache")}); err != nil {
		return err
	}
	if err := waitHTTP(ctx, url+"/api/v1/authconfig", 30*time.Second); err != nil {
		return fmt.Errorf("cruise server did not come up (log in %s): %w", filepath.Join(dir, "logs", "cruise-server.log"), err)
	}
	fmt.Fprintf(out, "cruise server running: open %s and log in as %s with the password in %s.\n", url, devAdmin, pwFile)
	return nil
}

// waitHTTP polls url until it answers 200 or timeout passes.
func waitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s: %s", url, resp.Status)
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond): // poll interval
		}
	}
}
