package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/cruisegitops/cruise/internal/seal"
	"github.com/cruisegitops/cruise/internal/sealkeys"
)

// KeysOptions say where the cluster's sealing keys are: the cluster, as
// kubectl's flags name it, and the namespace cruise is installed in.
type KeysOptions struct {
	// Kubeconfig is the kubeconfig file; default $KUBECONFIG, else
	// ~/.kube/config.
	Kubeconfig string
	// Context is the kubeconfig context; default its current context.
	Context string
	// Namespace holds the keys' Secret and ConfigMap; default
	// cruise-system.
	Namespace string
	// RequestTimeout bounds each request to the API server; 0 means none.
	RequestTimeout time.Duration
}

func defaultKeysOptions() KeysOptions {
	return KeysOptions{Namespace: sealkeys.DefaultNamespace, RequestTimeout: 30 * time.Second}
}

func (o *KeysOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "kubeconfig file (default $KUBECONFIG, else ~/.kube/config)")
	fs.StringVar(&o.Context, "context", o.Context, "kubeconfig context to use (default its current context)")
	fs.StringVar(&o.Namespace, "keys-namespace", o.Namespace, "namespace of the cluster's sealing keys (where cruise is installed)")
	fs.DurationVar(&o.RequestTimeout, "request-timeout", o.RequestTimeout, "time limit for each request to the API server")
}

// store connects to the cluster (without contacting it yet). Errors are
// exit code 2.
func (o *KeysOptions) store() (sealkeys.Store, error) {
	if errs := validation.IsDNS1123Label(o.Namespace); len(errs) > 0 {
		return sealkeys.Store{}, fail(2, fmt.Errorf("invalid --keys-namespace %q: %s", o.Namespace, strings.Join(errs, "; ")))
	}
	ko := KubeOptions{Kubeconfig: o.Kubeconfig, Context: o.Context, RequestTimeout: o.RequestTimeout}
	kc, err := ko.connect()
	if err != nil {
		return sealkeys.Store{}, err
	}
	return sealkeys.Store{Client: kc.Client, Namespace: o.Namespace}, nil
}

// clusterRecipient reads the cluster's newest public key.
func (o *KeysOptions) clusterRecipient(ctx context.Context) (*age.X25519Recipient, error) {
	st, err := o.store()
	if err != nil {
		return nil, err
	}
	pub, err := st.PublicKey(ctx)
	if err != nil {
		return nil, fail(2, err)
	}
	r, err := age.ParseX25519Recipient(pub)
	if err != nil {
		return nil, fail(2, fmt.Errorf("ConfigMap %s/%s: %q is not an age X25519 recipient", o.Namespace, sealkeys.PublicName, pub))
	}
	return r, nil
}

// clusterKeys reads the cluster's private keys, which only those allowed
// to read the keys' Secret may.
func (o *KeysOptions) clusterKeys(ctx context.Context, instead string) (seal.Ring, error) {
	st, err := o.store()
	if err != nil {
		return seal.Ring{}, err
	}
	ring, err := st.Load(ctx)
	if apierrors.IsForbidden(err) {
		return seal.Ring{}, fail(2, fmt.Errorf("%w (reading the cluster's private keys needs get on Secret %s/%s; %s)",
			err, o.Namespace, sealkeys.SecretName, instead))
	}
	if err != nil {
		return seal.Ring{}, fail(2, err)
	}
	if ring.Len() == 0 {
		return seal.Ring{}, fail(2, fmt.Errorf("the cluster has no sealing keys (no Secret %s/%s)", o.Namespace, sealkeys.SecretName))
	}
	return ring, nil
}

// maxKeyFile bounds the files the sealing commands read besides
// manifests: recipients, identities, passphrases, backups.
const maxKeyFile = 2 << 20

// readFileLimited reads a file (or stdin for "-") of at most limit bytes;
// flag names it in errors.
func readFileLimited(stdin io.Reader, flag, path string, limit int64) ([]byte, error) {
	var r io.Reader = stdin
	if path == "-" && stdin == nil {
		return nil, fmt.Errorf("%s -: stdin is not read here, give a file", flag)
	}
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", flag, path, errors.Unwrap(err))
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s %s: over %d bytes", flag, path, limit)
	}
	return data, nil
}

// readRecipients reads an age -R recipients file; errors name the file
// and the line.
func readRecipients(flag, path string) ([]*age.X25519Recipient, error) {
	data, err := readFileLimited(nil, flag, path, maxKeyFile)
	if err != nil {
		return nil, err
	}
	rs, err := seal.ParseRecipients(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	return rs, nil
}

// readIdentities reads an age identity file (AGE-SECRET-KEY-1… lines);
// errors name the file and the line, never a key.
func readIdentities(flag, path string) ([]seal.Key, error) {
	data, err := readFileLimited(nil, flag, path, maxKeyFile)
	if err != nil {
		return nil, err
	}
	keys, err := seal.ParseKeys(bytes.NewReader(data), time.Time{})
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	return keys, nil
}

// readPassphrase reads the first line of a passphrase file.
func readPassphrase(path string) (string, error) {
	data, err := readFileLimited(nil, "--passphrase-file", path, 64<<10)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", fmt.Errorf("--passphrase-file %s: the first line is empty", path)
	}
	return line, nil
}

// writeFileAtomic replaces path with data through a temporary file in the
// same directory, keeping path's permissions, so that a reader never sees
// half a file and a failure leaves the old one.
func writeFileAtomic(path string, data []byte) error {
	info, err := os.Lstat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if err := tmp.Chmod(info.Mode().Perm()); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(name, path); err != nil {
		return err
	}
	ok = true
	return nil
}
