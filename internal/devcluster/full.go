package devcluster

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Fake nodes are recognised by kwok through this annotation; anything else
// in the cluster is left alone.
const (
	kwokNodeAnnotation = "kwok.x-k8s.io/node"
	kwokNodeValue      = "fake"
)

// startFull starts the controllers, the scheduler and kwok, registers the
// fake nodes and waits until the cluster can run a Deployment: nodes Ready
// and the default ServiceAccount created by kube-controller-manager.
func (c *Cluster) startFull(ctx context.Context, bins binaries, opts Options) error {
	ports, err := freePorts(4)
	if err != nil {
		return err
	}
	kcmPort, schedPort, kwokPort, kwokMetrics := ports[0], ports[1], ports[2], ports[3]
	kc := c.Kubeconfig
	kcm, err := c.start("kube-controller-manager", bins.controllerManager, []string{
		"--kubeconfig=" + kc,
		"--authentication-kubeconfig=" + kc,
		"--authorization-kubeconfig=" + kc,
		"--bind-address=127.0.0.1",
		"--secure-port=" + itoa(kcmPort),
		"--leader-elect=false",
		"--service-account-private-key-file=" + c.pki.saKey,
		"--root-ca-file=" + c.pki.caCert,
		"--cluster-signing-cert-file=" + c.pki.caCert,
		"--cluster-signing-key-file=" + c.pki.caKey,
		"--use-service-account-credentials=false",
		"--service-cluster-ip-range=" + serviceCIDR,
		// The defaults (20/30) make a 100-replica Deployment take seconds
		// of client-side throttling on a local cluster.
		"--kube-api-qps=200",
		"--kube-api-burst=400",
		"--profiling=false",
	}, opts.Detach)
	if err != nil {
		return err
	}
	sched, err := c.start("kube-scheduler", bins.scheduler, []string{
		"--kubeconfig=" + kc,
		"--authentication-kubeconfig=" + kc,
		"--authorization-kubeconfig=" + kc,
		"--bind-address=127.0.0.1",
		"--secure-port=" + itoa(schedPort),
		"--leader-elect=false",
		"--profiling=false",
	}, opts.Detach)
	if err != nil {
		return err
	}
	kwok, err := c.start("kwok", bins.kwok, []string{
		"--kubeconfig=" + kc,
		"--config=" + bins.kwokStages,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + kwokNodeAnnotation + "=" + kwokNodeValue,
		"--node-ip=127.0.0.1",
		"--cidr=10.244.0.0/16",
		"--node-port=" + itoa(kwokPort),
		"--server-address=127.0.0.1:" + itoa(kwokMetrics),
	}, opts.Detach)
	if err != nil {
		return err
	}

	cfg, err := c.RESTConfig()
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("client for %s: %w", c.Server, err)
	}
	for i := range opts.Nodes {
		if err := createFakeNode(ctx, cs, fmt.Sprintf("kwok-node-%d", i)); err != nil {
			return err
		}
	}

	insecure := insecureProbeClient()
	for _, probe := range []struct {
		p    *process
		port int
	}{{kcm, kcmPort}, {sched, schedPort}} {
		url := fmt.Sprintf("https://127.0.0.1:%d/healthz", probe.port)
		if err := waitFor(ctx, probe.p, probe.p.Name+" /healthz", func() (bool, error) {
			resp, err := insecure.Get(url)
			if err != nil {
				return false, nil
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK, nil
		}); err != nil {
			return err
		}
	}
	if err := waitFor(ctx, kwok, "fake nodes Ready", func() (bool, error) {
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		ready := 0
		for _, n := range nodes.Items {
			for _, cond := range n.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		return ready >= opts.Nodes, nil
	}); err != nil {
		return err
	}
	// Pods are refused until the ServiceAccount controller has created the
	// namespace's default ServiceAccount; wait for it once here.
	return waitFor(ctx, kcm, "default ServiceAccount", func() (bool, error) {
		_, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
}

func createFakeNode(ctx context.Context, cs kubernetes.Interface, name string) error {
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{kwokNodeAnnotation: kwokNodeValue},
			Labels: map[string]string{
				"kubernetes.io/hostname": name,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
				"type":                   "kwok",
			},
		},
		Status: corev1.NodeStatus{
			Allocatable: fakeCapacity(),
			Capacity:    fakeCapacity(),
		},
	}
	_, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create fake node %s: %w", name, err)
	}
	return nil
}

// fakeCapacity is generous so that scheduling never fails for lack of room
// on a node that has no real resources anyway.
func fakeCapacity() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("1000"),
	}
}

// insecureProbeClient checks the health endpoints of kube-controller-manager
// and kube-scheduler, which serve self-signed certificates on loopback.
func insecureProbeClient() *http.Client {
	return &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: insecureTLS()},
	}
}

// insecureTLS skips verification for health probes of components that
// generate their own self-signed serving certificate on 127.0.0.1; the probe
// only reads a status code.
func insecureTLS() *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12} //nolint:gosec // loopback health probe only
}
