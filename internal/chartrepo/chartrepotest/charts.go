package chartrepotest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"sigs.k8s.io/yaml"
)

// Chart builds a small valid chart in memory: one ConfigMap template
// named after the release, with a value to vary it.
func Chart(name, version string) *chart.Chart {
	return &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: chart.APIVersionV2, Name: name, Version: version, AppVersion: version, Type: "application"},
		Values:   map[string]any{"greeting": "hello"},
		Raw:      []*common.File{{Name: "values.yaml", Data: []byte("greeting: hello\n")}},
		Templates: []*common.File{{Name: "templates/configmap.yaml", Data: []byte(
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-" + name + "\ndata:\n  greeting: {{ .Values.greeting | quote }}\n  version: " + version + "\n")}},
	}
}

// Package makes a .tgz of ch laid out as `helm package` lays it out
// (Chart.yaml, Chart.lock, values.yaml, templates, files, and
// subcharts under charts/), without Helm's chartutil (whose package
// pulls in a JSON-schema library cruise does not otherwise need here).
func Package(t testing.TB, ch *chart.Chart) []byte {
	t.Helper()
	if err := ch.Validate(); err != nil {
		t.Fatalf("chartrepotest: chart %s: %v", ch.Name(), err)
	}
	var entries []Entry
	addChart(t, &entries, ch, ch.Name())
	return TarGz(t, entries...)
}

func addChart(t testing.TB, entries *[]Entry, ch *chart.Chart, prefix string) {
	t.Helper()
	md, err := yaml.Marshal(ch.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	*entries = append(*entries, Entry{Name: prefix + "/Chart.yaml", Body: string(md)})
	if ch.Lock != nil {
		lock, err := yaml.Marshal(ch.Lock)
		if err != nil {
			t.Fatal(err)
		}
		*entries = append(*entries, Entry{Name: prefix + "/Chart.lock", Body: string(lock)})
	}
	hasValues := false
	for _, f := range ch.Raw {
		if f.Name == "values.yaml" {
			hasValues = true
			*entries = append(*entries, Entry{Name: prefix + "/values.yaml", Body: string(f.Data)})
		}
	}
	if !hasValues && len(ch.Values) > 0 {
		v, err := yaml.Marshal(ch.Values)
		if err != nil {
			t.Fatal(err)
		}
		*entries = append(*entries, Entry{Name: prefix + "/values.yaml", Body: string(v)})
	}
	for _, group := range [][]*common.File{ch.Templates, ch.Files} {
		for _, f := range group {
			*entries = append(*entries, Entry{Name: prefix + "/" + f.Name, Body: string(f.Data)})
		}
	}
	for _, dep := range ch.Dependencies() {
		addChart(t, entries, dep, prefix+"/charts/"+dep.Name())
	}
}

// PackageDir loads the chart directory dir (as Helm's loader does, so
// charts/ and .helmignore count), sets its version when version is not
// empty, and packages it.
func PackageDir(t testing.TB, dir, version string) []byte {
	t.Helper()
	ch, err := loader.LoadDir(dir)
	if err != nil {
		t.Fatalf("chartrepotest: loading chart %s: %v", dir, err)
	}
	if version != "" {
		ch.Metadata.Version = version
	}
	return Package(t, ch)
}

// Entry is one member of a hand-made archive.
type Entry struct {
	Name     string
	Body     string
	Type     byte   // tar.TypeReg when zero
	Linkname string // for tar.TypeSymlink and tar.TypeLink
}

// TarGz builds an archive entry by entry, for archives `helm package`
// would never make (symlinks, "../" names).
func TarGz(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		typ := e.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		hd := &tar.Header{Name: e.Name, Typeflag: typ, Linkname: e.Linkname, Mode: 0o644}
		if typ == tar.TypeReg {
			hd.Size = int64(len(e.Body))
		}
		if err := tw.WriteHeader(hd); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.Body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// metadata reads an archive's Chart.yaml through Helm's loader.
func metadata(t testing.TB, archive []byte) *chart.Metadata {
	t.Helper()
	ch, err := loader.LoadArchive(bytes.NewReader(archive))
	if err != nil {
		t.Fatalf("chartrepotest: archive is not a chart: %v", err)
	}
	return ch.Metadata
}
