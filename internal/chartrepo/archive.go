package chartrepo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	"sigs.k8s.io/yaml"
)

// Archive is one chart archive (.tgz), verified: its digest checked, its
// entries confined to the chart directory, its Chart.yaml read.
type Archive struct {
	// Name, Version and AppVersion are the archive's Chart.yaml's.
	Name, Version, AppVersion string
	// Digest is "sha256:<hex>" of Data: for OCI the chart layer's digest.
	Digest string
	// Data is the .tgz. Archives come from a shared cache: never modify it.
	Data []byte
}

// Revision is "<version>@sha256:<hex>", the form status.lastAppliedRevision
// and `apply -o json` show for repository charts.
func (a *Archive) Revision() string { return a.Version + "@" + a.Digest }

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// maxChartYAML bounds the Chart.yaml read while inspecting.
const maxChartYAML = 1 << 20

// inspect walks the archive before Helm's loader ever sees it: only
// regular files and directories, every entry inside one top directory
// (Helm strips the first path element), no "..", nothing absolute, and
// at most maxBytes decompressed (a gzip bomb stops at the limit). It
// returns the top-level Chart.yaml's metadata. what names the archive in
// errors ("chart podinfo 6.14.0 from https://…").
func inspect(data []byte, maxBytes int64, what string) (*chart.Metadata, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, errorf(ErrInvalid, "%s: not a gzip archive: %v", what, err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	remaining := maxBytes
	var top string
	var meta *chart.Metadata
	for {
		hd, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errorf(ErrInvalid, "%s: not a tar archive: %v", what, err)
		}
		switch hd.Typeflag {
		case tar.TypeXGlobalHeader, tar.TypeXHeader:
			continue
		case tar.TypeReg, tar.TypeDir:
		case tar.TypeSymlink:
			return nil, errorf(ErrInvalid, "%s: entry %q is a symlink (to %q): chart archives may hold only files and directories", what, hd.Name, hd.Linkname)
		case tar.TypeLink:
			return nil, errorf(ErrInvalid, "%s: entry %q is a hard link (to %q): chart archives may hold only files and directories", what, hd.Name, hd.Linkname)
		default:
			return nil, errorf(ErrInvalid, "%s: entry %q is of tar type %q: chart archives may hold only files and directories", what, hd.Name, string(hd.Typeflag))
		}
		name := strings.ReplaceAll(hd.Name, "\\", "/")
		if path.IsAbs(name) || (len(name) > 1 && name[1] == ':') {
			return nil, errorf(ErrInvalid, "%s: entry %q is an absolute path", what, hd.Name)
		}
		for _, el := range strings.Split(name, "/") {
			if el == ".." {
				return nil, errorf(ErrInvalid, "%s: entry %q leaves the chart directory (..)", what, hd.Name)
			}
		}
		clean := path.Clean(name)
		first, rest, _ := strings.Cut(clean, "/")
		if first == "." || first == "" {
			return nil, errorf(ErrInvalid, "%s: entry %q is not inside the chart's directory", what, hd.Name)
		}
		if top == "" {
			top = first
		} else if first != top {
			return nil, errorf(ErrInvalid, "%s: entries in two top directories, %q and %q", what, top, first)
		}
		if hd.Typeflag == tar.TypeDir {
			continue
		}
		if rest == "" {
			return nil, errorf(ErrInvalid, "%s: entry %q is not inside the chart's directory", what, hd.Name)
		}
		if hd.Size > remaining {
			return nil, errorf(ErrInvalid, "%s: decompressed chart is over %d bytes", what, maxBytes)
		}
		var sink io.Writer = io.Discard
		var buf bytes.Buffer
		if rest == "Chart.yaml" {
			if hd.Size > maxChartYAML {
				return nil, errorf(ErrInvalid, "%s: Chart.yaml is over %d bytes", what, maxChartYAML)
			}
			sink = &buf
		}
		n, err := io.Copy(sink, io.LimitReader(tr, remaining))
		if err != nil {
			return nil, errorf(ErrInvalid, "%s: entry %q: %v", what, hd.Name, err)
		}
		remaining -= n
		if n < hd.Size || remaining < 0 {
			return nil, errorf(ErrInvalid, "%s: decompressed chart is over %d bytes", what, maxBytes)
		}
		if rest == "Chart.yaml" {
			meta = &chart.Metadata{}
			if err := yaml.Unmarshal(buf.Bytes(), meta); err != nil {
				return nil, errorf(ErrInvalid, "%s: Chart.yaml: %v", what, err)
			}
		}
	}
	if meta == nil {
		return nil, errorf(ErrInvalid, "%s: no Chart.yaml in the chart's directory", what)
	}
	if meta.Name == "" || meta.Version == "" {
		return nil, errorf(ErrInvalid, "%s: Chart.yaml has no name or no version", what)
	}
	return meta, nil
}

// verified checks data (digest, entries) and makes the Archive, refusing
// one whose Chart.yaml is not the chart and version asked for.
func verified(data []byte, wantDigest, chartName, version string, maxBytes int64, what string) (*Archive, error) {
	digest := sha256Digest(data)
	if wantDigest != "" && !strings.EqualFold(digest, wantDigest) {
		return nil, errorf(ErrInvalid, "%s: digest mismatch: expected %s, downloaded %s", what, wantDigest, digest)
	}
	meta, err := inspect(data, maxBytes, what)
	if err != nil {
		return nil, err
	}
	if meta.Name != chartName {
		return nil, errorf(ErrInvalid, "%s: archive holds chart %q, not %q", what, meta.Name, chartName)
	}
	if meta.Version != version {
		return nil, errorf(ErrInvalid, "%s: archive holds version %q, not %q", what, meta.Version, version)
	}
	return &Archive{Name: meta.Name, Version: meta.Version, AppVersion: meta.AppVersion, Digest: digest, Data: data}, nil
}

func chartWhat(name, version, from string) string {
	return fmt.Sprintf("chart %s %s from %s", name, version, redact(from))
}
