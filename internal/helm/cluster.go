package helm

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
)

// Cluster is what a render reads from the cluster it is for:
// .Capabilities.KubeVersion and .Capabilities.APIVersions.
type Cluster struct {
	KubeVersion string
	// APIVersions holds "group/version" and "group/version/Kind" of every
	// served resource, as Helm lists them.
	APIVersions []string
}

// Discover reads the cluster's version and API versions. A group whose
// discovery fails (an aggregated API that is down) is left out, as Helm
// does, rather than failing every render.
func Discover(d discovery.DiscoveryInterface) (Cluster, error) {
	v, err := d.ServerVersion()
	if err != nil {
		return Cluster{}, fmt.Errorf("read the Kubernetes version: %w", err)
	}
	groups, resources, err := d.ServerGroupsAndResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return Cluster{}, fmt.Errorf("read the cluster's API versions: %w", err)
	}
	seen := map[string]bool{}
	for _, g := range groups {
		for _, gv := range g.Versions {
			seen[gv.GroupVersion] = true
		}
	}
	for _, rl := range resources {
		for _, r := range rl.APIResources {
			seen[rl.GroupVersion+"/"+r.Kind] = true
		}
	}
	c := Cluster{KubeVersion: v.GitVersion}
	for k := range seen {
		c.APIVersions = append(c.APIVersions, k)
	}
	sort.Strings(c.APIVersions)
	return c, nil
}

// ClusterCache holds what Discover read of one cluster for TTL, so that
// rendering one chart after another asks the API server once, not a
// request per API group for every render. Safe for concurrent use.
type ClusterCache struct {
	Config *rest.Config
	TTL    time.Duration

	mu      sync.Mutex
	cluster Cluster
	read    time.Time
}

// Get returns the cluster's capabilities, read again when older than TTL.
func (c *ClusterCache) Get() (Cluster, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.read.IsZero() && time.Since(c.read) < c.TTL {
		return c.cluster, nil
	}
	cfg := rest.CopyConfig(c.Config)
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	d, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return Cluster{}, fmt.Errorf("discovery client: %w", err)
	}
	cl, err := Discover(d)
	if err != nil {
		return Cluster{}, err
	}
	c.cluster, c.read = cl, time.Now()
	return cl, nil
}

// Invalidate makes the next Get read the cluster again: after an apply
// that wrote a CRD, charts rendered next see its API.
func (c *ClusterCache) Invalidate() {
	c.mu.Lock()
	c.read = time.Time{}
	c.mu.Unlock()
}
