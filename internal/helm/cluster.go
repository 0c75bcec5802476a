package helm

import (
	"fmt"
	"sort"

	"k8s.io/client-go/discovery"
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
