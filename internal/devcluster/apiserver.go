package devcluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func (c *Cluster) startEtcd(ctx context.Context, bins binaries, opts Options) (string, error) {
	ports, err := freePorts(2)
	if err != nil {
		return "", err
	}
	client := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	peer := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	args := []string{
		"--name=default",
		"--data-dir=" + filepath.Join(c.Dir, "etcd"),
		"--listen-client-urls=" + client,
		"--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer,
		"--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=default=" + peer,
		"--log-level=warn",
	}
	if !opts.Durable {
		args = append(args, "--unsafe-no-fsync=true")
	}
	p, err := c.start("etcd", bins.etcd, args, opts.Detach)
	if err != nil {
		return "", err
	}
	httpc := &http.Client{Timeout: 2 * time.Second}
	err = waitFor(ctx, p, "etcd health", func() (bool, error) {
		resp, err := httpc.Get(client + "/health")
		if err != nil {
			return false, nil
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return resp.StatusCode == http.StatusOK && strings.Contains(string(body), `"health":"true"`), nil
	})
	return client, err
}

func (c *Cluster) startAPIServer(ctx context.Context, bins binaries, opts Options, etcdURL string) error {
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	c.Server = fmt.Sprintf("https://127.0.0.1:%d", ports[0])
	args := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		// Nothing inside this cluster reaches the API through the
		// "kubernetes" Service, and its endpoint reconciler refuses
		// loopback addresses.
		"--endpoint-reconciler-type=none",
		"--secure-port=" + itoa(ports[0]),
		"--tls-cert-file=" + c.pki.servingCert,
		"--tls-private-key-file=" + c.pki.servingKey,
		"--client-ca-file=" + c.pki.caCert,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + c.pki.saPub,
		"--service-account-signing-key-file=" + c.pki.saKey,
		"--service-cluster-ip-range=" + serviceCIDR,
		"--authorization-mode=RBAC",
		"--allow-privileged=true",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		"--v=0",
	}
	if opts.Profile == ProfileAPI {
		// Nothing would ever create the default ServiceAccount, so Pod
		// creation must not wait for it.
		args = append(args, "--disable-admission-plugins=ServiceAccount")
	}
	p, err := c.start("kube-apiserver", bins.apiserver, args, opts.Detach)
	if err != nil {
		return err
	}
	c.Kubeconfig = filepath.Join(c.Dir, "kubeconfig")
	if err := c.writeKubeconfig(c.Kubeconfig, c.Server); err != nil {
		return err
	}
	httpc, err := c.adminHTTPClient()
	if err != nil {
		return err
	}
	return waitFor(ctx, p, "kube-apiserver /readyz", func() (bool, error) {
		resp, err := httpc.Get(c.Server + "/readyz")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}

// adminHTTPClient talks to kube-apiserver as the administrator, for health
// probes that need no client library.
func (c *Cluster) adminHTTPClient() (*http.Client, error) {
	caPEM, err := os.ReadFile(c.pki.caCert)
	if err != nil {
		return nil, fmt.Errorf("read CA: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	cert, err := tls.LoadX509KeyPair(c.pki.adminCert, c.pki.adminKey)
	if err != nil {
		return nil, fmt.Errorf("load admin certificate: %w", err)
	}
	return &http.Client{
		Timeout: 2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs:      pool,
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
		}},
	}, nil
}

// pollInterval is how often start-up probes run; components answer within
// tens of milliseconds once up.
const pollInterval = 50 * time.Millisecond

// waitFor polls check until it reports true, the context ends, or p exits.
func waitFor(ctx context.Context, p *process, what string, check func() (bool, error)) error {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		ok, err := check()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w; last log lines of %s:\n%s", what, ctx.Err(), p.Name, tail(p.Log, 15))
		case <-p.done:
			return fmt.Errorf("waiting for %s: %w", what, p.exitErr())
		case <-t.C:
		}
	}
}
