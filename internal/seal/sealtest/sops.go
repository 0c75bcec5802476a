package sealtest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// EnvSOPS names the variable that points at a sops binary; without it the
// binary is bin/tools/sops of the nearest directory above the working
// directory that has one (the module root).
const EnvSOPS = "CRUISE_SOPS"

// SOPS returns the path of the sops CLI, failing the test when there is
// none: a missing tool is a broken setup, never a reason to skip.
func SOPS(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(EnvSOPS); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("$%s=%s: %v (run `make test`, or `make bin/tools/sops`)", EnvSOPS, p, err)
		}
		return p
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "bin", "tools", "sops")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	t.Fatalf("the sops CLI is not in bin/tools/sops above %s and $%s is not set: run `make test` (or `make bin/tools/sops`) to build it", wd, EnvSOPS)
	return ""
}

// AgeKeygen makes a new identity with Debian's age-keygen and returns the
// identity file's content and its recipient.
func AgeKeygen(t testing.TB) (identity []byte, recipient string) {
	t.Helper()
	bin, err := exec.LookPath("age-keygen")
	if err != nil {
		t.Fatalf("age-keygen not found: install Debian's age package (`make test` does: hack/install-test-deps.sh)")
	}
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("age-keygen: %v: %s", err, errOut.String())
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if r, ok := strings.CutPrefix(line, "# public key: "); ok {
			return out.Bytes(), strings.TrimSpace(r)
		}
	}
	t.Fatalf("age-keygen wrote no public key comment")
	return nil, ""
}

// Encrypt runs `sops encrypt --age R1,R2… ARGS… FILE` on plain, written to
// a temporary file named with ext (".yaml", ".json": sops picks the format
// from it), and returns what sops printed. The environment holds no key
// or configuration of the user's.
func Encrypt(t testing.TB, plain []byte, ext string, recipients []string, args ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "in"+ext)
	if err := os.WriteFile(file, plain, 0o600); err != nil {
		t.Fatal(err)
	}
	argv := append([]string{"encrypt"}, args...)
	if len(recipients) > 0 {
		argv = append(argv, "--age", strings.Join(recipients, ","))
	}
	argv = append(argv, file)
	return run(t, dir, nil, argv...)
}

// EncryptWithConfig runs `sops encrypt` with a .sops.yaml beside the
// file, for what only the configuration can say (key groups, Shamir).
func EncryptWithConfig(t testing.TB, plain []byte, ext string, config string) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".sops.yaml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "in"+ext)
	if err := os.WriteFile(file, plain, 0o600); err != nil {
		t.Fatal(err)
	}
	return run(t, dir, nil, "encrypt", file)
}

// Decrypt runs `sops decrypt` with identity (an age identity file) on
// data, for comparing with what cruise decrypts.
func Decrypt(t testing.TB, data []byte, ext string, identity []byte) []byte {
	t.Helper()
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.txt")
	if err := os.WriteFile(keys, identity, 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "in"+ext)
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return run(t, dir, []string{"SOPS_AGE_KEY_FILE=" + keys}, "decrypt", file)
}

func run(t testing.TB, dir string, env []string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(SOPS(t), args...)
	cmd.Dir = dir
	// No user configuration, keys or key services leak in.
	cmd.Env = append([]string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "XDG_CONFIG_HOME=" + dir}, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("sops %s: %v: %s", strings.Join(args, " "), err, errOut.String())
	}
	return out.Bytes()
}
