package devcluster

import (
	"fmt"
	"os"
	"path/filepath"
)

// binaries are absolute paths of the components a profile needs.
type binaries struct {
	etcd, apiserver, controllerManager, scheduler, kwok, kwokStages string
}

// BinDirEnv names the environment variable that points at the control-plane
// binaries. It is the variable controller-runtime's envtest reads, so both
// find the same binaries.
const BinDirEnv = "KUBEBUILDER_ASSETS"

// FindBinDir returns the directory holding the control-plane binaries:
// explicit when not empty (callers pass the value of BinDirEnv); else k8s/
// beside the running executable (bin/cruise finds bin/k8s from anywhere);
// else bin/k8s in the nearest directory above the working directory that
// has one, so `go test` works from any package directory after `make
// cluster-bins`.
func FindBinDir(explicit string) (string, error) {
	if explicit != "" {
		return filepath.Abs(explicit)
	}
	if exe, err := os.Executable(); err == nil {
		candidate := filepath.Join(filepath.Dir(exe), "k8s")
		if _, err := os.Stat(filepath.Join(candidate, "kube-apiserver")); err == nil {
			return candidate, nil
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find control-plane binaries: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		candidate := filepath.Join(d, "bin", "k8s")
		if _, err := os.Stat(filepath.Join(candidate, "kube-apiserver")); err == nil {
			return candidate, nil
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return "", fmt.Errorf("control-plane binaries not found: set %s or run `make cluster-bins`", BinDirEnv)
}

func resolveBinaries(dir string, profile Profile) (binaries, error) {
	if dir == "" {
		var err error
		if dir, err = FindBinDir(""); err != nil {
			return binaries{}, err
		}
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return binaries{}, fmt.Errorf("binary dir: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(dir); err == nil {
		dir = resolved // /proc/PID/exe shows resolved paths; keep them comparable
	}
	b := binaries{
		etcd:              filepath.Join(dir, "etcd"),
		apiserver:         filepath.Join(dir, "kube-apiserver"),
		controllerManager: filepath.Join(dir, "kube-controller-manager"),
		scheduler:         filepath.Join(dir, "kube-scheduler"),
		kwok:              filepath.Join(dir, "kwok"),
		kwokStages:        filepath.Join(dir, "kwok-stages.yaml"),
	}
	need := []string{b.etcd, b.apiserver}
	if profile == ProfileFull {
		need = append(need, b.controllerManager, b.scheduler, b.kwok, b.kwokStages)
	}
	for _, p := range need {
		if _, err := os.Stat(p); err != nil {
			return binaries{}, fmt.Errorf("%s missing (run `make cluster-bins`): %w", p, err)
		}
	}
	return b, nil
}
