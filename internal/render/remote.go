package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/types"
)

// checkRemote refuses, before kustomize runs, any reference to a URL or git
// repository in the kustomization at dir and in every local kustomization
// it pulls in. It has to run first: kustomize fetches HTTP resources with
// its own client and clones git repositories by running git, so by the time
// the filesystem sees anything the request has gone out (and an operator
// pod fetching attacker-chosen URLs is a server-side request forgery).
//
// Malformed kustomization files are skipped here: kustomize rejects them
// itself, before it fetches anything.
func checkRemote(f confinedFS, dir string) error {
	s := remoteScan{fs: f, seen: map[string]bool{}}
	return s.dir(dir)
}

type remoteScan struct {
	fs   confinedFS
	seen map[string]bool // kustomization directories already scanned
}

func (s *remoteScan) dir(dir string) error {
	if s.seen[dir] {
		return nil
	}
	s.seen[dir] = true
	kfile := findKustomization(s.fs, dir)
	if kfile == "" {
		return nil
	}
	data, err := s.fs.ReadFile(kfile)
	if err != nil {
		return err
	}
	var k types.Kustomization
	if err := k.Unmarshal(data); err != nil {
		return nil
	}
	k.FixKustomization()
	refuse := func(field, ref string) error {
		return &Error{File: s.fs.c.rel(kfile), Kind: ErrRemoteRefused,
			Err: fmt.Errorf("%s entry %q is a remote reference; remote bases are disabled (AllowRemoteBases)", field, ref)}
	}

	// Fields that may name another kustomization: check, then recurse.
	for _, list := range []struct {
		field string
		refs  []string
	}{
		{"resources", k.Resources},
		{"components", k.Components},
		{"generators", k.Generators},
		{"transformers", k.Transformers},
		{"validators", k.Validators},
	} {
		for _, ref := range list.refs {
			if strings.Contains(ref, "\n") {
				// An inline plugin configuration.
				if err := s.pluginConfig(kfile, list.field, []byte(ref)); err != nil {
					return err
				}
				continue
			}
			if isRemote(ref) {
				return refuse(list.field, ref)
			}
			p := filepath.Join(dir, ref)
			switch {
			case s.fs.IsDir(p):
				if err := s.dir(p); err != nil {
					return err
				}
			case list.field != "resources" && list.field != "components" && s.fs.Exists(p):
				data, err := s.fs.ReadFile(p)
				if err != nil {
					return err
				}
				if err := s.pluginConfig(p, list.field, data); err != nil {
					return err
				}
			}
		}
	}

	// Fields that name single files, which kustomize fetches over HTTP when
	// given a URL.
	files := map[string][]string{
		"crds":                  k.Crds,
		"configurations":        k.Configurations,
		"patchesStrategicMerge": nil,
		"openapi":               {k.OpenAPI["path"]},
	}
	// Deprecated fields are still honoured by kustomize, so they must be
	// checked like the current ones.
	//lint:ignore SA1019 kustomize still reads this field
	for _, p := range k.PatchesStrategicMerge {
		if !strings.Contains(string(p), "\n") {
			files["patchesStrategicMerge"] = append(files["patchesStrategicMerge"], string(p))
		}
	}
	//lint:ignore SA1019 kustomize still reads this field
	for _, p := range append(k.Patches, k.PatchesJson6902...) {
		files["patches"] = append(files["patches"], p.Path)
	}
	for _, r := range k.Replacements {
		files["replacements"] = append(files["replacements"], r.Path)
	}
	for _, g := range k.ConfigMapGenerator {
		files["configMapGenerator"] = append(files["configMapGenerator"], kvFiles(g.KvPairSources)...)
	}
	for _, g := range k.SecretGenerator {
		files["secretGenerator"] = append(files["secretGenerator"], kvFiles(g.KvPairSources)...)
	}
	for field, refs := range files {
		for _, ref := range refs {
			if isRemote(ref) {
				return refuse(field, ref)
			}
		}
	}
	return nil
}

// pluginConfig scans generator, transformer and validator configurations
// (the builtin ones load patch files and generator inputs, possibly from
// URLs) for remote references anywhere in them.
func (s *remoteScan) pluginConfig(file, field string, data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil // kustomize reports malformed configurations itself
		}
		if ref, ok := findRemote(v); ok {
			return &Error{File: s.fs.c.rel(file), Kind: ErrRemoteRefused,
				Err: fmt.Errorf("%s configuration refers to %q, a remote reference; remote bases are disabled (AllowRemoteBases)", field, ref)}
		}
	}
}

func findRemote(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		for _, part := range strings.Split(v, "=") {
			if isRemote(strings.TrimSpace(part)) {
				return v, true
			}
		}
	case []any:
		for _, e := range v {
			if ref, ok := findRemote(e); ok {
				return ref, true
			}
		}
	case map[string]any:
		for _, e := range v {
			if ref, ok := findRemote(e); ok {
				return ref, true
			}
		}
	case map[any]any:
		for _, e := range v {
			if ref, ok := findRemote(e); ok {
				return ref, true
			}
		}
	}
	return "", false
}

// kvFiles returns the paths of a generator's file and env sources; file
// sources may be written "key=path".
func kvFiles(kv types.KvPairSources) []string {
	var out []string
	for _, f := range kv.FileSources {
		if _, p, ok := strings.Cut(f, "="); ok {
			f = p
		}
		out = append(out, f)
	}
	out = append(out, kv.EnvSources...)
	if kv.EnvSource != "" {
		out = append(out, kv.EnvSource)
	}
	return out
}

// scpLike matches git's "user@host:path" form, which kustomize treats as a
// repository.
var scpLike = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*@[^/:]+[:/]`)

// isRemote reports whether kustomize would fetch ref rather than read it
// from disk: anything with a URL scheme (http, https, ssh, file, git), the
// go-getter "git::" prefix, scp-style git addresses, and github.com paths,
// which kustomize clones even without a scheme.
func isRemote(ref string) bool {
	lower := strings.ToLower(strings.TrimSpace(ref))
	return strings.Contains(lower, "://") ||
		strings.HasPrefix(lower, "git::") ||
		strings.HasPrefix(lower, "github.com/") ||
		strings.HasPrefix(lower, "github.com:") ||
		scpLike.MatchString(lower)
}

// findKustomization returns the kustomization file in dir, or "".
func findKustomization(f confinedFS, dir string) string {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := filepath.Join(dir, name)
		if resolved, err := f.c.resolve(p, ""); err == nil && !f.IsDir(resolved) {
			return p
		}
	}
	return ""
}
