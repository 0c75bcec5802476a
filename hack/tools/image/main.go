// Command image packs a static cruise binary into an OCI container image
// and writes it as a tarball that `docker load` and `podman load` read, and
// that kind, k3d and containerd import. It needs no Docker daemon and no
// registry: the image has no base, only one layer with
//
//	/cruise                              the binary (the entrypoint)
//	/etc/ssl/certs/ca-certificates.crt   Mozilla's roots, for Git over HTTPS
//	/etc/passwd, /etc/group              the user nonroot (65532)
//	/tmp                                 for a writable /tmp without a volume
//
// and runs as 65532:65532. Every timestamp is 1970-01-01, so the same binary
// always gives the same digest.
//
// Usage (see `make image`):
//
//	go run . --binary BIN --out FILE.tar [--tag cruise:dev]...
//
// It prints the image's digest and ID.
package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// The user the image runs as: distroless's "nonroot".
const (
	uid = 65532
	gid = 65532
)

// epoch is every timestamp in the image, so the same binary always gives
// the same digest (as SOURCE_DATE_EPOCH=0 does for other builders).
var epoch = time.Unix(0, 0).UTC()

// tags is a repeatable --tag flag.
type tags []string

func (t *tags) String() string     { return strings.Join(*t, ",") }
func (t *tags) Set(s string) error { *t = append(*t, s); return nil }

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	binary := fs.String("binary", "", "static linux cruise binary to pack (required)")
	out := fs.String("out", "", "image tarball to write (required)")
	var refs tags
	fs.Var(&refs, "tag", "image reference to tag the image with; repeatable (default cruise:dev)")
	version := fs.String("version", "", "version recorded in the org.opencontainers.image.version label")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *binary == "" || *out == "" {
		return errors.New("--binary and --out are required")
	}
	if len(refs) == 0 {
		refs = tags{"cruise:dev"}
	}
	bin, err := os.ReadFile(*binary)
	if err != nil {
		return err
	}
	arch, err := checkBinary(bin)
	if err != nil {
		return fmt.Errorf("%s: %w", *binary, err)
	}
	img, err := build(bin, arch, *version)
	if err != nil {
		return err
	}
	tagged := map[name.Tag]v1.Image{}
	for _, r := range refs {
		t, err := name.NewTag(r)
		if err != nil {
			return fmt.Errorf("--tag %q: %w", r, err)
		}
		tagged[t] = img
	}
	if err := tarball.MultiWriteToFile(*out, tagged); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	id, err := img.ConfigName()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%s, linux/%s)\ndigest: %s\nimage ID: %s\n", *out, strings.Join(refs, ", "), arch, digest, id)
	return nil
}

// checkBinary makes sure bin is a statically linked Linux executable (an
// image with no base has no dynamic loader and no libc) and returns its
// architecture as GOARCH spells it.
func checkBinary(bin []byte) (string, error) {
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return "", fmt.Errorf("not a Linux executable: %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", errors.New("dynamically linked: build it with CGO_ENABLED=0")
		}
	}
	switch f.Machine {
	case elf.EM_X86_64:
		return "amd64", nil
	case elf.EM_AARCH64:
		return "arm64", nil
	case elf.EM_PPC64:
		return "ppc64le", nil
	case elf.EM_S390:
		return "s390x", nil
	case elf.EM_RISCV:
		return "riscv64", nil
	}
	return "", fmt.Errorf("unsupported architecture %s", f.Machine)
}

// build makes the image: one layer on nothing, the config.
func build(bin []byte, arch, version string) (v1.Image, error) {
	layerTar, err := rootFS(bin)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", arch
	cfg.Created = v1.Time{Time: epoch}
	cfg.History = []v1.History{{Created: v1.Time{Time: epoch}, CreatedBy: "cruise hack/tools/image", Comment: "the cruise binary, CA roots, /etc/passwd, /tmp"}}
	cfg.Config = v1.Config{
		Entrypoint: []string{"/cruise"},
		User:       fmt.Sprintf("%d:%d", uid, gid),
		WorkingDir: "/",
		Env: []string{
			"PATH=/",
			"HOME=/tmp",
			"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
		},
		Labels: map[string]string{
			"org.opencontainers.image.title":  "cruise",
			"org.opencontainers.image.source": "https://github.com/cruisegitops/cruise",
		},
	}
	if version != "" {
		cfg.Config.Labels["org.opencontainers.image.version"] = version
	}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return img, nil
}

// rootFS returns the uncompressed tar of the image's only layer.
func rootFS(bin []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(path string, mode int64) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: path, Mode: mode, ModTime: epoch, Format: tar.FormatPAX})
	}
	file := func(path string, mode int64, data []byte) error {
		h := &tar.Header{Typeflag: tar.TypeReg, Name: path, Mode: mode, Size: int64(len(data)), ModTime: epoch, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/tmp:/sbin/nologin\n", uid, gid)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", gid)
	steps := []func() error{
		func() error { return file("cruise", 0o755, bin) },
		func() error { return dir("etc/", 0o755) },
		func() error { return file("etc/group", 0o644, []byte(group)) },
		func() error { return file("etc/passwd", 0o644, []byte(passwd)) },
		func() error { return dir("etc/ssl/", 0o755) },
		func() error { return dir("etc/ssl/certs/", 0o755) },
		func() error { return file("etc/ssl/certs/ca-certificates.crt", 0o644, caBundle()) },
		func() error { return dir("tmp/", 0o1777) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, fmt.Errorf("layer: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	return buf.Bytes(), nil
}

// caBundle is Mozilla's set of trusted roots (from the NSS trust store, as
// pinned in go.mod) in PEM. Roots with constraints a PEM file cannot
// express (distrust after a date) are left out.
func caBundle() []byte {
	var buf bytes.Buffer
	for r := range bundle.Roots() {
		if r.Constraint != nil {
			continue
		}
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: r.Certificate})
	}
	return buf.Bytes()
}
