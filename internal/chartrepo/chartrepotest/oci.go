package chartrepotest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	chart "helm.sh/helm/v4/pkg/chart/v2"

	"github.com/cruisegitops/cruise/internal/chartrepo"
	"github.com/cruisegitops/cruise/internal/image/registrytest"
)

// OCIOptions shape the registry (see registrytest.Options: basic auth
// with a token exchange, TLS, mutual TLS).
type OCIOptions = registrytest.Options

// OCIRepo is a registry on 127.0.0.1 holding charts under "charts/".
type OCIRepo struct {
	// Registry is the registry itself (request counts, rate limits).
	Registry *registrytest.Registry
	opts     OCIOptions
}

// NewOCI starts a registry that lives until the test ends.
func NewOCI(t testing.TB, opts OCIOptions) *OCIRepo {
	t.Helper()
	return &OCIRepo{Registry: registrytest.Start(t, opts), opts: opts}
}

// URL is "oci://127.0.0.1:PORT/charts", the repoURL of the charts pushed.
func (r *OCIRepo) URL() string { return "oci://" + r.Registry.Host() + "/charts" }

// Auth is everything a client needs to reach the registry.
func (r *OCIRepo) Auth() chartrepo.Auth {
	a := chartrepo.Auth{Username: r.opts.Username, Password: r.opts.Password, CAPEM: r.Registry.CA(), PlainHTTP: !r.opts.TLS}
	a.CertPEM, a.KeyPEM = r.Registry.ClientCertificate()
	return a
}

// SecretData is Auth as the data of a repository Secret.
func (r *OCIRepo) SecretData() map[string][]byte { return secretData(r.Auth()) }

// Push stores archive as a Helm OCI artifact at charts/<name>:<version>
// ("+" written "_", as Helm does) and returns the chart layer's digest.
func (r *OCIRepo) Push(t testing.TB, archive []byte) string {
	t.Helper()
	return r.PushAs(t, metadata(t, archive), archive)
}

// PushChart packages ch and pushes it.
func (r *OCIRepo) PushChart(t testing.TB, ch *chart.Chart) string {
	t.Helper()
	return r.Push(t, Package(t, ch))
}

// PushAs pushes archive with md as its config (for archives the loader
// refuses).
func (r *OCIRepo) PushAs(t testing.TB, md *chart.Metadata, archive []byte) string {
	t.Helper()
	a, err := helmArtifact(md, archive)
	if err != nil {
		t.Fatal(err)
	}
	img, err := a.image()
	if err != nil {
		t.Fatal(err)
	}
	r.Registry.Push("charts/"+md.Name, strings.ReplaceAll(md.Version, "+", "_"), img)
	return a.layer.Digest.String()
}

// artifact is a Helm chart as an OCI image: the config is Chart.yaml as
// JSON, the one layer the archive.
type artifact struct {
	config   []byte
	configD  v1.Descriptor
	layer    v1.Descriptor
	layerB   []byte
	manifest []byte
}

func helmArtifact(md *chart.Metadata, archive []byte) (*artifact, error) {
	cfg, err := json.Marshal(md)
	if err != nil {
		return nil, err
	}
	a := &artifact{config: cfg, layerB: archive}
	for _, d := range []struct {
		dst  *v1.Descriptor
		data []byte
		mt   types.MediaType
	}{{&a.configD, cfg, chartrepo.ConfigMediaType}, {&a.layer, archive, chartrepo.ChartLayerMediaType}} {
		h, n, err := v1.SHA256(bytes.NewReader(d.data))
		if err != nil {
			return nil, err
		}
		*d.dst = v1.Descriptor{MediaType: d.mt, Size: n, Digest: h}
	}
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: a.configD, Layers: []v1.Descriptor{a.layer}}
	if a.manifest, err = json.Marshal(m); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *artifact) image() (v1.Image, error) { return partial.CompressedToImage(a) }

func (a *artifact) RawConfigFile() ([]byte, error)      { return a.config, nil }
func (a *artifact) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (a *artifact) RawManifest() ([]byte, error)        { return a.manifest, nil }
func (a *artifact) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	switch h {
	case a.layer.Digest:
		return static.NewLayer(a.layerB, a.layer.MediaType), nil
	case a.configD.Digest:
		return static.NewLayer(a.config, a.configD.MediaType), nil
	}
	return nil, fmt.Errorf("no blob %s in the artifact", h)
}
