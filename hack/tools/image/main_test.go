package main

import (
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// staticBinary builds a small static Linux program.
func staticBinary(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := "package main\n\nfunc main() { println(\"hello\") }\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "hello")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestImageIsValidAndReproducible writes an image twice, reads it back as
// docker load would, and validates every digest in it.
func TestImageIsValidAndReproducible(t *testing.T) {
	bin := staticBinary(t)
	dir := t.TempDir()
	var digests []string
	for _, out := range []string{"a.tar", "b.tar"} {
		var stdout strings.Builder
		err := run([]string{"--binary", bin, "--out", filepath.Join(dir, out), "--tag", "cruise:dev", "--tag", "example.test/cruise:v1"}, &stdout)
		if err != nil {
			t.Fatal(err)
		}
		_, ids, _ := strings.Cut(stdout.String(), "\n") // after "wrote FILE ..."
		digests = append(digests, ids)
	}
	if digests[0] != digests[1] {
		t.Errorf("two builds of one binary differ:\n%s\n%s", digests[0], digests[1])
	}
	for _, ref := range []string{"cruise:dev", "example.test/cruise:v1"} {
		tag, err := name.NewTag(ref)
		if err != nil {
			t.Fatal(err)
		}
		img, err := tarball.ImageFromPath(filepath.Join(dir, "a.tar"), &tag)
		if err != nil {
			t.Fatalf("read %s back: %v", ref, err)
		}
		if err := validate.Image(img); err != nil {
			t.Errorf("%s: %v", ref, err)
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Config.Entrypoint; len(got) != 1 || got[0] != "/cruise" || cfg.Config.User != "65532:65532" {
			t.Errorf("%s: entrypoint %v user %q", ref, got, cfg.Config.User)
		}
	}
}

func TestRefusesDynamicBinaries(t *testing.T) {
	// /bin/sh is dynamically linked on most systems.
	f, err := elf.Open("/bin/sh")
	if err != nil {
		t.Skipf("no ELF /bin/sh: %v", err)
	}
	defer f.Close()
	if !slices.ContainsFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP }) {
		t.Skip("/bin/sh is statically linked")
	}
	err = run([]string{"--binary", "/bin/sh", "--out", filepath.Join(t.TempDir(), "x.tar")}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Errorf("error = %v, want one asking for CGO_ENABLED=0", err)
	}
}
