package cli

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"

	"filippo.io/age"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/seal"
	"github.com/cruisegitops/cruise/internal/sealfile"
)

// SealOptions configures `cruise seal`.
type SealOptions struct {
	// Recipient is an age -R file with the recipients to seal to.
	Recipient string
	// Cluster seals to the cluster's newest public key instead.
	Cluster bool
	// Recovery are more recipients files, for offline recovery.
	Recovery []string
	// Scope is strict (default, also for ""), namespace-wide or
	// cluster-wide.
	Scope string
	// File is the Secret manifest; "" or "-" is stdin.
	File string
	// MergeInto is a SealedSecret file to seal the input's keys into.
	MergeInto string
	// Reencrypt is a directory whose SealedSecrets are sealed again.
	Reencrypt string
	// Identity decrypts for Reencrypt; default the cluster's keys.
	Identity string
	// Keys locate the cluster, for Cluster and for Reencrypt without
	// Identity.
	Keys KeysOptions
}

func newSealCommand() *cobra.Command {
	o := &SealOptions{Keys: defaultKeysOptions()}
	cmd := &cobra.Command{
		Use:   "seal (--recipient FILE | --cluster) [--recovery-recipient FILE]... [--scope SCOPE] [-f FILE | --merge-into FILE | --reencrypt DIR]",
		Short: "Encrypt a Secret manifest into a SealedSecret that is safe to commit",
		Long: `Encrypt a Kubernetes Secret manifest into a SealedSecret, which only the
cluster (and the holders of the recovery identities) can decrypt.

cruise seal reads one v1 Secret (YAML or JSON, data and/or stringData) from
-f FILE or stdin, for example the output of
  kubectl create secret generic db --from-literal=password=… --dry-run=client -o yaml
and writes a SealedSecret to stdout. Each value is sealed on its own, so a
diff in Git shows which keys changed, never a value.

Recipients: --recipient FILE is an age recipients file (one age1… a line, #
comments, as age -R reads); --cluster reads the cluster's newest public key
(cruise secrets pubkey). --recovery-recipient FILE adds recipients who can
decrypt every value offline with age and jq. Only --cluster (and
--reencrypt without --identity) contacts a cluster.

--scope binds each value, inside the ciphertext, to where it may be
unsealed: strict (default; this name in this namespace), namespace-wide
(any name in this namespace) or cluster-wide.

--merge-into FILE seals the input's keys into an existing SealedSecret file
in place; the other keys' lines and the template stay byte for byte (the
input's labels, annotations and type are not used).

--reencrypt DIR seals every SealedSecret under DIR again to the given
recipients, in place, decrypting with --identity FILE (an age identity
file, e.g. from cruise secrets backup) or else the cluster's private keys.
Files already sealed to exactly those recipients, and files without a
SealedSecret, are left alone, so a second run changes nothing.

Exit codes: 0 done; 2 error (bad flags, recipients or input; nothing was
written to stdout or to any file).`,
		Args: noArgsBut("the Secret manifest goes in -f FILE or stdin"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSeal(cmd.Context(), cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	cmd.SetFlagErrorFunc(flagError)
	fs := cmd.Flags()
	fs.StringVar(&o.Recipient, "recipient", "", "age recipients file (age -R format) to seal to")
	fs.BoolVar(&o.Cluster, "cluster", false, "seal to the cluster's newest public key")
	fs.StringArrayVar(&o.Recovery, "recovery-recipient", nil, "age recipients file of an offline recovery identity (repeatable)")
	fs.StringVar(&o.Scope, "scope", "", "where the values may be unsealed: strict (default), namespace-wide or cluster-wide")
	fs.StringVarP(&o.File, "filename", "f", "", "Secret manifest to seal (default stdin)")
	fs.StringVar(&o.MergeInto, "merge-into", "", "SealedSecret file to seal the input's keys into, in place")
	fs.StringVar(&o.Reencrypt, "reencrypt", "", "directory whose SealedSecrets to seal again, in place")
	fs.StringVar(&o.Identity, "identity", "", "with --reencrypt: age identity file to decrypt with (default the cluster's keys)")
	o.Keys.addFlags(fs)
	return cmd
}

// validate checks the flags' combination; errors are exit code 2.
func (o *SealOptions) validate() (seal.Scope, error) {
	if (o.Recipient == "") == !o.Cluster {
		return "", errors.New("give exactly one of --recipient FILE and --cluster")
	}
	scope, err := seal.ParseScope(o.Scope)
	if err != nil {
		return "", fmt.Errorf("--scope: %w", err)
	}
	if o.Reencrypt != "" {
		switch {
		case o.File != "" || o.MergeInto != "":
			return "", errors.New("--reencrypt works on the SealedSecrets under DIR: it takes no -f or --merge-into")
		case o.Scope != "":
			return "", errors.New("--reencrypt keeps each value's scope: it takes no --scope")
		}
		return scope, nil
	}
	if o.Identity != "" {
		return "", errors.New("--identity is for --reencrypt only")
	}
	return scope, nil
}

func runSeal(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, o *SealOptions) error {
	scope, err := o.validate()
	if err != nil {
		return fail(2, err)
	}
	if o.Reencrypt != "" {
		return runReencrypt(ctx, stderr, o)
	}
	// Local inputs first: a bad file fails before the cluster is asked.
	primary, recovery, err := o.localRecipients()
	if err != nil {
		return err
	}
	in := o.File
	if in == "" {
		in = "-"
	}
	data, err := readFileLimited(stdin, "-f", in, sealfile.MaxManifestSize)
	if err != nil {
		return fail(2, err)
	}
	secret, err := sealfile.ParseSecret(data)
	if err != nil {
		return fail(2, err)
	}
	if o.Cluster {
		r, err := o.Keys.clusterRecipient(ctx)
		if err != nil {
			return err
		}
		primary = []*age.X25519Recipient{r}
	}
	recipients := append(primary, recovery...)
	if len(recipients) > seal.MaxStanzas {
		return fail(2, fmt.Errorf("%d recipients, the limit is %d", len(recipients), seal.MaxStanzas))
	}
	for _, k := range secret.Dropped {
		fmt.Fprintf(stderr, "Warning: annotation %s left out of the template: it holds the values in clear\n", k)
	}
	encrypted, err := sealValues(secret, scope, recipients)
	if err != nil {
		return fail(2, err)
	}
	if o.MergeInto != "" {
		return mergeInto(stderr, o.MergeInto, secret, encrypted, seal.RecipientSet(recipients...))
	}
	ss := &v1alpha1.SealedSecret{
		ObjectMeta: metav1.ObjectMeta{Name: secret.Name, Namespace: secret.Namespace},
		Spec: v1alpha1.SealedSecretSpec{
			EncryptedData: encrypted,
			Template: v1alpha1.SecretTemplate{Type: secret.Type,
				Metadata: v1alpha1.TemplateMetadata{Labels: secret.Labels, Annotations: secret.Annotations}},
			Recipients: seal.RecipientSet(recipients...),
		},
	}
	out, err := sealfile.Marshal(ss)
	if err != nil {
		return fail(2, err)
	}
	_, err = stdout.Write(out)
	return err
}

// noArgsBut refuses positional arguments with exit code 2, saying where
// the input goes instead.
func noArgsBut(hint string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) > 0 {
			return fail(2, fmt.Errorf("unexpected argument %q: %s", args[0], hint))
		}
		return nil
	}
}

// localRecipients reads the recipients given as files: --recipient
// (unless --cluster) and --recovery-recipient. Both sealing and
// re-sealing read them before they ask the cluster for anything.
func (o *SealOptions) localRecipients() (primary, recovery []*age.X25519Recipient, err error) {
	if !o.Cluster {
		if primary, err = readRecipients("--recipient", o.Recipient); err != nil {
			return nil, nil, fail(2, err)
		}
	}
	for _, path := range o.Recovery {
		rs, err := readRecipients("--recovery-recipient", path)
		if err != nil {
			return nil, nil, fail(2, err)
		}
		recovery = append(recovery, rs...)
	}
	return primary, recovery, nil
}

// sealValues seals every value of secret on its own, as standard base64.
func sealValues(secret sealfile.Secret, scope seal.Scope, recipients []*age.X25519Recipient) (map[string]string, error) {
	rs := seal.AgeRecipients(dedupe(recipients))
	out := make(map[string]string, len(secret.Data))
	for _, k := range secret.Keys() {
		sealed, err := seal.Seal(secret.Data[k], scope, seal.Target{Namespace: secret.Namespace, Name: secret.Name, Key: k}, rs...)
		if err != nil {
			return nil, fmt.Errorf("key %q of Secret %s/%s: %w", k, secret.Namespace, secret.Name, err)
		}
		out[k] = base64.StdEncoding.EncodeToString(sealed)
	}
	return out, nil
}

// dedupe drops repeated recipients (the cluster key also given as a
// recovery recipient), keeping the order.
func dedupe(rs []*age.X25519Recipient) []*age.X25519Recipient {
	seen := map[string]bool{}
	var out []*age.X25519Recipient
	for _, r := range rs {
		if s := r.String(); !seen[s] {
			seen[s] = true
			out = append(out, r)
		}
	}
	return out
}

// mergeInto seals the input's keys into the SealedSecret in path, in
// place.
func mergeInto(stderr io.Writer, path string, secret sealfile.Secret, encrypted map[string]string, recipients []string) error {
	data, err := readFileLimited(nil, "--merge-into", path, sealfile.MaxManifestSize)
	if err != nil {
		return fail(2, err)
	}
	// A symlink named on the command line is edited where it points, not
	// replaced by a file.
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fail(2, fmt.Errorf("--merge-into %s: %w", path, err))
	}
	f, err := sealfile.ParseFile(data)
	if err != nil {
		return fail(2, fmt.Errorf("--merge-into %s: %w", path, err))
	}
	docs := f.SealedSecrets()
	if len(docs) != 1 {
		return fail(2, fmt.Errorf("--merge-into %s holds %d cruise SealedSecrets: want exactly one", path, len(docs)))
	}
	d := docs[0]
	if d.Name != secret.Name || d.Namespace != secret.Namespace {
		return fail(2, fmt.Errorf("--merge-into %s is SealedSecret %s/%s, the input is Secret %s/%s: the names must match (they are sealed into every value)",
			path, d.Namespace, d.Name, secret.Namespace, secret.Name))
	}
	have := d.EncryptedData()
	added, replaced := 0, 0
	for _, k := range secret.Keys() {
		if _, ok := have[k]; ok {
			replaced++
		} else {
			added++
		}
		d.SetValue(k, encrypted[k])
	}
	if recorded, ok := d.Recipients(); ok && !slices.Equal(recorded, recipients) {
		d.DropRecipients()
		fmt.Fprintf(stderr, "Warning: %s: its other keys were sealed to other recipients; spec.recipients removed: run cruise seal --reencrypt to seal them all to the same recipients\n", path)
	}
	out, reformatted, err := f.Bytes()
	if err != nil {
		return fail(2, fmt.Errorf("--merge-into %s: %w", path, err))
	}
	if err := writeFileAtomic(target, out); err != nil {
		return fail(2, fmt.Errorf("--merge-into %s: %w", path, err))
	}
	if reformatted {
		fmt.Fprintf(stderr, "Warning: %s: its layout could not be edited line by line; the file was rewritten in cruise's layout\n", path)
	}
	fmt.Fprintf(stderr, "%s: sealed %d keys into SealedSecret %s/%s (%d added, %d replaced)\n", path, added+replaced, d.Namespace, d.Name, added, replaced)
	return nil
}
