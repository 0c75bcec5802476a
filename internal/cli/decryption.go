package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"

	"github.com/cruisegitops/cruise/internal/pipeline"
	"github.com/cruisegitops/cruise/internal/render"
)

// DecryptionOptions say where `cruise apply` and `cruise diff` find the
// age keys that decrypt SOPS files, as spec.decryption does for an
// Application. Keys come from files or a Secret, never from a flag value.
type DecryptionOptions struct {
	// IdentityFiles are age identity files, as age-keygen writes them
	// (--age-identity, repeatable).
	IdentityFiles []string
	// Secret names a Secret whose data keys ending in ".agekey" hold
	// identities (Flux's convention, what spec.decryption.secretRef
	// names), read with the kubeconfig user's rights: NAME in the
	// namespace of -n (else the context's), or NAMESPACE/NAME.
	Secret string
}

func (o *DecryptionOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.IdentityFiles, "age-identity", o.IdentityFiles, "age identity file that decrypts SOPS-encrypted manifests (repeatable)")
	fs.StringVar(&o.Secret, "decryption-secret", o.Secret, "Secret (NAME in the -n namespace, or NAMESPACE/NAME) whose *.agekey keys decrypt SOPS-encrypted manifests, as spec.decryption.secretRef")
}

// validate checks the flags that need no cluster.
func (o *DecryptionOptions) validate() error {
	if o.Secret == "" {
		return nil
	}
	ns, name, hasNS := strings.Cut(o.Secret, "/")
	if !hasNS {
		ns, name = "", o.Secret
	}
	if hasNS {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return fmt.Errorf("invalid --decryption-secret %q: namespace: %s", o.Secret, strings.Join(errs, "; "))
		}
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fmt.Errorf("invalid --decryption-secret %q: %s", o.Secret, strings.Join(errs, "; "))
	}
	return nil
}

// load reads the keys; nil when no flag names any. The Secret is read
// through c, in c's default namespace unless the flag names one.
func (o *DecryptionOptions) load(ctx context.Context, c *cluster) (*render.Decryption, error) {
	if len(o.IdentityFiles) == 0 && o.Secret == "" {
		return nil, nil
	}
	dec := &render.Decryption{}
	for _, f := range o.IdentityFiles {
		data, err := readFlagFile("--age-identity", f)
		if err != nil {
			return nil, err
		}
		ids, err := pipeline.ParseAgeIdentities(data)
		if err != nil {
			return nil, fmt.Errorf("--age-identity %s: %w", f, err)
		}
		dec.Identities = append(dec.Identities, ids...)
	}
	if o.Secret != "" {
		ns, name, ok := strings.Cut(o.Secret, "/")
		if !ok {
			ns, name = c.namespaces.Default, o.Secret
		}
		cs, err := kubernetes.NewForConfig(c.config)
		if err != nil {
			return nil, err
		}
		secret, err := cs.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return nil, fmt.Errorf("--decryption-secret: Secret %s/%s not found", ns, name)
		case err != nil:
			return nil, fmt.Errorf("--decryption-secret: read Secret %s/%s: %w", ns, name, err)
		}
		keys, err := pipeline.DecryptionKeys(secret)
		if err != nil {
			return nil, fmt.Errorf("--decryption-secret: %w", err)
		}
		dec.Identities = append(dec.Identities, keys.Identities...)
	}
	return dec, nil
}

// decryptionHint points at the flags when a render failed on a SOPS file
// no key was given for.
func decryptionHint(err error, dec *render.Decryption, flags string) error {
	if dec == nil && errors.Is(err, render.ErrDecryption) && strings.Contains(err.Error(), "no decryption keys") {
		return fmt.Errorf("%w (%s)", err, flags)
	}
	return err
}
