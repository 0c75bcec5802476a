package server

import (
	"cmp"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/image"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// This file is the pure half of an application's images: which container
// runs which repository, which ImagePolicies follow it, and what they
// prefer to the running tag. images.go reads the objects.

// containerImage is one container of a workload's pod template.
type containerImage struct {
	workload apiv1.WorkloadRef
	name     string
	init     bool
	image    string
}

// podSpecImages lists the containers of spec, init containers first, as
// the kubelet starts them.
func podSpecImages(w apiv1.WorkloadRef, spec *corev1.PodSpec) []containerImage {
	var out []containerImage
	for _, c := range spec.InitContainers {
		out = append(out, containerImage{workload: w, name: c.Name, init: true, image: c.Image})
	}
	for _, c := range spec.Containers {
		out = append(out, containerImage{workload: w, name: c.Name, image: c.Image})
	}
	return out
}

// parseImage splits a container's image into its repository, with the
// registry spelled out as ImageRepositories' are (nginx is
// index.docker.io/library/nginx), its tag (latest when none is written,
// as the kubelet pulls it, unless a digest is) and its digest. repo is
// empty when the reference does not parse.
func parseImage(img string) (repo, tag, digest string) {
	base, digest, _ := strings.Cut(img, "@")
	ref, err := name.ParseReference(base)
	if err != nil {
		return "", "", ""
	}
	if t, ok := ref.(name.Tag); ok {
		tag = t.TagStr()
		if digest != "" && !strings.Contains(base[strings.LastIndex(base, "/")+1:], ":") {
			tag = "" // only the digest is written: no tag to compare
		}
	}
	return ref.Context().Name(), tag, digest
}

// repositoryName is the canonical repository an ImageRepository scans.
func repositoryName(r *v1alpha1.ImageRepository) string {
	if repo, err := image.Repository(r.Spec.Image, r.Spec.Insecure); err == nil {
		return repo.Name()
	}
	return r.Status.CanonicalImageName
}

// policyRepoKey is "namespace/name" of the ImageRepository p reads.
func policyRepoKey(p *v1alpha1.ImagePolicy) string {
	return cmp.Or(p.Spec.ImageRepositoryRef.Namespace, p.Namespace) + "/" + p.Spec.ImageRepositoryRef.Name
}

// selectorOf is p's tag selector; nil when its spec does not parse (its
// Ready condition then says why).
func selectorOf(p *v1alpha1.ImagePolicy) *image.Selector {
	spec := image.SelectorSpec{}
	switch c := p.Spec.Policy; {
	case c.SemVer != nil:
		spec.Kind, spec.Range = image.SemVer, c.SemVer.Range
	case c.Numerical != nil:
		spec.Kind, spec.Order = image.Numerical, c.Numerical.Order
	case c.Alphabetical != nil:
		spec.Kind, spec.Order = image.Alphabetical, c.Alphabetical.Order
	}
	if f := p.Spec.FilterTags; f != nil {
		spec.Pattern, spec.Extract = f.Pattern, f.Extract
	}
	sel, err := image.NewSelector(spec)
	if err != nil {
		return nil
	}
	return sel
}

// imageCatalog is what the user may read of image automation: the
// repositories by "namespace/name", the policies (sorted by namespace and
// name) and the automations' holds by policy.
type imageCatalog struct {
	repos    map[string]*v1alpha1.ImageRepository
	policies []*v1alpha1.ImagePolicy
	holds    map[string][]apiv1.ImageHold
	// selectors caches each policy's parsed selector (nil when it does
	// not parse): a policy is met once per container running its image.
	selectors map[*v1alpha1.ImagePolicy]*image.Selector
}

// addHolds records the holds of automation a.
func (c *imageCatalog) addHolds(a *v1alpha1.ImageUpdateAutomation) {
	for _, h := range a.Status.Held {
		c.holds[h.Policy] = append(c.holds[h.Policy], apiv1.ImageHold{Automation: a.Namespace + "/" + a.Name,
			Tag: h.Ref.Tag, Image: h.Ref.String(), Commit: h.Commit, Since: h.Since.Time})
	}
}

// match makes the items of containers: one per container and policy
// following its repository, or one without a policy.
func (c *imageCatalog) match(containers []containerImage) []apiv1.ApplicationImage {
	byRepo := map[string][]*v1alpha1.ImagePolicy{}
	for _, p := range c.policies {
		if r := c.repos[policyRepoKey(p)]; r != nil {
			name := repositoryName(r)
			byRepo[name] = append(byRepo[name], p)
		}
	}
	out := []apiv1.ApplicationImage{}
	for _, ci := range containers {
		item := apiv1.ApplicationImage{Workload: ci.workload, Container: ci.name, Init: ci.init, Image: ci.image}
		item.Repository, item.Tag, item.Digest = parseImage(ci.image)
		policies := byRepo[item.Repository]
		if item.Repository == "" || len(policies) == 0 {
			out = append(out, item)
			continue
		}
		for _, p := range policies {
			out = append(out, c.describe(item, p))
		}
	}
	return out
}

// describe fills in what policy p says of the running image in item.
func (c *imageCatalog) describe(item apiv1.ApplicationImage, p *v1alpha1.ImagePolicy) apiv1.ApplicationImage {
	key := p.Namespace + "/" + p.Name
	item.Policy, item.ImageRepository = key, policyRepoKey(p)
	item.PolicyReady = string(metav1.ConditionUnknown)
	if ready := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady); ready != nil {
		item.PolicyReady, item.PolicyMessage = string(ready.Status), ready.Message
	}
	item.Held = c.holds[key]
	if ref := p.Status.LatestRef; ref != nil {
		item.Latest, item.LatestDigest = ref.Tag, ref.Digest
	}
	var scanned []string
	if r := c.repos[item.ImageRepository].Status.LastScanResult; r != nil {
		scanned = r.LatestTags
	}
	sel, ok := c.selectors[p]
	if !ok {
		sel = selectorOf(p)
		if c.selectors == nil {
			c.selectors = map[*v1alpha1.ImagePolicy]*image.Selector{}
		}
		c.selectors[p] = sel
	}
	item.Newer, item.UpdateAvailable = newerTags(sel, scanned, item.Latest, item.Tag, item.LatestDigest, item.Digest)
	return item
}

// newerTags ranks the known tags (the last scan's and the policy's
// choice) with the running one: the tags ahead of it are newer. When sel
// does not rank the running tag (it does not match the policy, or only a
// digest runs), nothing is newer, and an update is available when the
// choice differs from what runs.
func newerTags(sel *image.Selector, scanned []string, latest, running, latestDigest, runningDigest string) (newer []string, update bool) {
	differs := latest != "" && latest != running
	if running == "" {
		differs = latestDigest != "" && runningDigest != "" && latestDigest != runningDigest
	}
	if sel == nil || running == "" {
		return nil, differs
	}
	known := slices.Clone(scanned)
	for _, t := range []string{latest, running} {
		if t != "" && !slices.Contains(known, t) {
			known = append(known, t)
		}
	}
	ranked := sel.Rank(known)
	at := slices.Index(ranked, running)
	if at < 0 {
		return nil, differs
	}
	newer = ranked[:at]
	return newer, latest != "" && slices.Contains(newer, latest)
}
