package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cruisegitops/cruise/internal/seal"
)

// SecretsOptions configures `cruise secrets`.
type SecretsOptions struct {
	Keys KeysOptions
	// Recipient (backup) is an age -R file to encrypt the backup to.
	Recipient string
	// Identity (restore) is an age identity file to decrypt it with.
	Identity string
	// PassphraseFile holds the passphrase on its first line, instead.
	PassphraseFile string
	// Armor writes the backup as ASCII armor (PEM-like text).
	Armor bool
}

func newSecretsCommand() *cobra.Command {
	o := &SecretsOptions{Keys: defaultKeysOptions()}
	cmd := &cobra.Command{
		Use:   "secrets",
		Short: "The cluster's sealing keys: public key, backup and restore",
		Long: `The cluster's sealing keys: age X25519 identities in the Secret
cruise-sealing-keys in cruise-system, created by the controller on its first
start and rotated on a schedule; the newest seals, all of them unseal.

  pubkey   print the newest public key, to seal to (any authenticated user)
  backup   write the private keys, encrypted with age, to stdout
  restore  add the private keys of a backup to the cluster`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fail(2, fmt.Errorf("%s: unknown command %q: want pubkey, backup or restore", cmd.CommandPath(), args[0]))
			}
			return fail(2, fmt.Errorf("%s: say what to do: pubkey, backup or restore (see %s --help)", cmd.CommandPath(), cmd.CommandPath()))
		},
	}
	cmd.SetFlagErrorFunc(flagError)
	o.Keys.addFlags(cmd.PersistentFlags())

	pubkey := &cobra.Command{
		Use:   "pubkey",
		Short: "Print the cluster's newest public key (age1…)",
		Long: `Print the cluster's newest sealing public key, the age recipient
cruise seal seals to, as one line. It comes from the ConfigMap
cruise-sealing-public-key, which any authenticated user may read:

  cruise secrets pubkey > cluster.age.pub
  cruise seal --recipient cluster.age.pub -f secret.yaml > sealed.yaml

Exit codes: 0 printed; 2 error (no key published yet, cluster unreachable).`,
		Args: noArgsBut("pubkey takes none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := o.Keys.clusterRecipient(cmd.Context())
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), r.String())
			return err
		},
	}

	backup := &cobra.Command{
		Use:   "backup (--recipient FILE | --passphrase-file FILE) [--armor]",
		Short: "Write the cluster's private sealing keys to stdout, encrypted with age",
		Long: `Write every private sealing key of the cluster to stdout as an age
file, encrypted to the recipients in --recipient FILE (age -R format) or
with the passphrase on the first line of --passphrase-file FILE. Its
plaintext is an age identity file (one AGE-SECRET-KEY-1… line per key, with
# comments), so age -d alone recovers it. Reading the keys needs get on the
Secret cruise-sealing-keys.

  cruise secrets backup --recipient offline.age.pub > sealing-keys.age
  age -d -i offline.key sealing-keys.age        # the identity file

The keys are never written unencrypted. Without --armor the output is
binary and refused on a terminal.

Exit codes: 0 written; 2 error.`,
		Args: noArgsBut("the backup goes to stdout"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSecretsBackup(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	backup.Flags().StringVar(&o.Recipient, "recipient", "", "age recipients file (age -R format) to encrypt the backup to")
	backup.Flags().StringVar(&o.PassphraseFile, "passphrase-file", "", "file whose first line is the passphrase to encrypt the backup with")
	backup.Flags().BoolVarP(&o.Armor, "armor", "a", false, "write ASCII armor instead of binary")

	restore := &cobra.Command{
		Use:   "restore (--identity FILE | --passphrase-file FILE) BACKUP",
		Short: "Add the private sealing keys of a backup to the cluster",
		Long: `Decrypt BACKUP (a file cruise secrets backup wrote, binary or armored;
- for stdin) with the age identity file --identity FILE or the passphrase on
the first line of --passphrase-file FILE, and add its keys to the cluster's.
Keys the cluster holds already are left as they are; each key keeps its
creation time. Works before the controller ever ran (the Secret and its
namespace are created); the newest key, restored or not, is published.

Exit codes: 0 restored; 2 error (nothing was changed).`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fail(2, fmt.Errorf("%s: one BACKUP file expected, got %d arguments", cmd.CommandPath(), len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSecretsRestore(cmd.Context(), cmd.InOrStdin(), cmd.OutOrStdout(), o, args[0])
		},
	}
	restore.Flags().StringVar(&o.Identity, "identity", "", "age identity file to decrypt the backup with")
	restore.Flags().StringVar(&o.PassphraseFile, "passphrase-file", "", "file whose first line is the backup's passphrase")

	for _, c := range []*cobra.Command{pubkey, backup, restore} {
		c.SetFlagErrorFunc(flagError)
		cmd.AddCommand(c)
	}
	return cmd
}

func runSecretsBackup(ctx context.Context, stdout io.Writer, o *SecretsOptions) error {
	if (o.Recipient == "") == (o.PassphraseFile == "") {
		return fail(2, errors.New("give exactly one of --recipient FILE and --passphrase-file FILE"))
	}
	if f, ok := stdout.(*os.File); ok && !o.Armor && term.IsTerminal(int(f.Fd())) {
		return fail(2, errors.New("the backup is binary: redirect stdout to a file, or pass --armor"))
	}
	var recipients []age.Recipient
	if o.Recipient != "" {
		rs, err := readRecipients("--recipient", o.Recipient)
		if err != nil {
			return fail(2, err)
		}
		recipients = seal.AgeRecipients(rs)
	} else {
		pass, err := readPassphrase(o.PassphraseFile)
		if err != nil {
			return fail(2, err)
		}
		r, err := age.NewScryptRecipient(pass)
		if err != nil {
			return fail(2, fmt.Errorf("--passphrase-file %s: %w", o.PassphraseFile, err))
		}
		recipients = []age.Recipient{r}
	}
	ring, err := o.Keys.clusterKeys(ctx, "ask someone who may, or back up from a cluster admin's kubeconfig")
	if err != nil {
		return err
	}
	// Encrypt into memory, so that a failure writes nothing.
	var out bytes.Buffer
	var dst io.Writer = &out
	var aw io.WriteCloser
	if o.Armor {
		aw = armor.NewWriter(&out)
		dst = aw
	}
	w, err := age.Encrypt(dst, recipients...)
	if err != nil {
		return fail(2, err)
	}
	if _, err := w.Write(ring.MarshalIdentities()); err != nil {
		return fail(2, err)
	}
	if err := w.Close(); err != nil {
		return fail(2, err)
	}
	if aw != nil {
		if err := aw.Close(); err != nil {
			return fail(2, err)
		}
	}
	_, err = stdout.Write(out.Bytes())
	return err
}

// armorHeader starts an armored age file.
const armorHeader = "-----BEGIN AGE ENCRYPTED FILE-----"

func runSecretsRestore(ctx context.Context, stdin io.Reader, stdout io.Writer, o *SecretsOptions, backup string) error {
	if (o.Identity == "") == (o.PassphraseFile == "") {
		return fail(2, errors.New("give exactly one of --identity FILE and --passphrase-file FILE"))
	}
	var ids []age.Identity
	if o.Identity != "" {
		keys, err := readIdentities("--identity", o.Identity)
		if err != nil {
			return fail(2, err)
		}
		ids = seal.NewRing(keys...).Identities()
	} else {
		pass, err := readPassphrase(o.PassphraseFile)
		if err != nil {
			return fail(2, err)
		}
		id, err := age.NewScryptIdentity(pass)
		if err != nil {
			return fail(2, fmt.Errorf("--passphrase-file %s: %w", o.PassphraseFile, err))
		}
		ids = []age.Identity{id}
	}
	data, err := readFileLimited(stdin, "BACKUP", backup, maxKeyFile)
	if err != nil {
		return fail(2, err)
	}
	var src io.Reader = bytes.NewReader(data)
	if bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte(armorHeader)) {
		src = armor.NewReader(src)
	}
	r, err := age.Decrypt(src, ids...)
	if err != nil {
		return fail(2, fmt.Errorf("BACKUP %s: %w", backup, err))
	}
	// Undated keys (a plain age-keygen file) sort oldest, so they never
	// displace a dated key as the one published.
	keys, err := seal.ParseKeys(io.LimitReader(r, maxKeyFile), time.Time{})
	if err != nil {
		return fail(2, fmt.Errorf("BACKUP %s: the decrypted backup: %w", backup, err))
	}
	st, err := o.Keys.store()
	if err != nil {
		return err
	}
	ring, added, err := st.Add(ctx, keys...)
	if err != nil {
		return fail(2, err)
	}
	newest, _ := ring.Newest()
	n := seal.NewRing(keys...).Len()
	fmt.Fprintf(stdout, "restored %d keys (%d added, %d already present); the cluster holds %d keys; published: %s\n",
		n, added, n-added, ring.Len(), newest.Recipient())
	return nil
}
