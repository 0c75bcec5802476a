package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"filippo.io/age"

	"github.com/cruisegitops/cruise/internal/seal"
	"github.com/cruisegitops/cruise/internal/sealfile"
)

// maxReencryptFile bounds the YAML files --reencrypt reads; larger ones
// are skipped with a warning (a SealedSecret holds at most 1 MiB of
// values).
const maxReencryptFile = 8 << 20

// resealedFile is a file --reencrypt rewrites, once every file was read
// and every value decrypted.
type resealedFile struct {
	path        string
	data        []byte
	docs        int
	reformatted bool
}

// runReencrypt seals every cruise SealedSecret under o.Reencrypt again to
// the recipients given, in two passes: the first reads, decrypts and
// re-seals everything in memory, the second writes. A failure in the
// first pass leaves every file as it was.
func runReencrypt(ctx context.Context, stderr io.Writer, o *SealOptions) error {
	root, err := filepath.EvalSymlinks(o.Reencrypt)
	if err != nil {
		return fail(2, fmt.Errorf("--reencrypt %s: %w", o.Reencrypt, err))
	}
	if info, err := os.Stat(root); err != nil || !info.IsDir() {
		return fail(2, fmt.Errorf("--reencrypt %s: not a directory", o.Reencrypt))
	}
	primary, recovery, err := o.localRecipients()
	if err != nil {
		return err
	}
	var ids []age.Identity
	if o.Identity != "" {
		keys, err := readIdentities("--identity", o.Identity)
		if err != nil {
			return fail(2, err)
		}
		ids = seal.NewRing(keys...).Identities()
	}
	if o.Cluster {
		r, err := o.Keys.clusterRecipient(ctx)
		if err != nil {
			return err
		}
		primary = []*age.X25519Recipient{r}
	}
	recipients := dedupe(append(primary, recovery...))
	if len(recipients) > seal.MaxStanzas {
		return fail(2, fmt.Errorf("%d recipients, the limit is %d", len(recipients), seal.MaxStanzas))
	}
	rs := &resealer{recipients: seal.AgeRecipients(recipients), set: seal.RecipientSet(recipients...), ids: ids}
	if ids == nil {
		rs.loadIDs = func() ([]age.Identity, error) {
			ring, err := o.Keys.clusterKeys(ctx, "pass --identity FILE with the keys instead, e.g. from cruise secrets backup")
			if err != nil {
				return nil, err
			}
			return ring.Identities(), nil
		}
	}

	var pending []resealedFile
	current := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		// Symlinks are never followed: they could lead out of DIR, and a
		// file inside DIR is visited under its own name anyway.
		if !d.Type().IsRegular() || !isYAMLName(d.Name()) {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		shown := filepath.Join(o.Reencrypt, rel)
		file, resealed, already, err := rs.file(path, shown, stderr)
		if err != nil {
			return err
		}
		current += already
		if file != nil {
			file.path = path
			file.docs = resealed
			pending = append(pending, *file)
		}
		return nil
	})
	if err != nil {
		return fail(2, err)
	}
	for _, p := range pending {
		rel, _ := filepath.Rel(root, p.path)
		shown := filepath.Join(o.Reencrypt, rel)
		if err := writeFileAtomic(p.path, p.data); err != nil {
			return fail(2, fmt.Errorf("%s: %w", shown, err))
		}
		note := ""
		if p.reformatted {
			note = " (its layout could not be edited line by line: rewritten in cruise's layout)"
		}
		fmt.Fprintf(stderr, "%s: re-sealed %d SealedSecrets%s\n", shown, p.docs, note)
	}
	fmt.Fprintf(stderr, "%d files changed; %d SealedSecrets were already sealed to these recipients\n", len(pending), current)
	return nil
}

func isYAMLName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

// resealer seals values again to recipients, decrypting with ids (read
// from the cluster on first need when loadIDs is set).
type resealer struct {
	recipients []age.Recipient
	set        []string
	ids        []age.Identity
	loadIDs    func() ([]age.Identity, error)
}

func (r *resealer) identities() ([]age.Identity, error) {
	if r.ids == nil && r.loadIDs != nil {
		ids, err := r.loadIDs()
		if err != nil {
			return nil, err
		}
		r.ids = ids
	}
	return r.ids, nil
}

// file re-seals the SealedSecrets of one file; it returns nil when the
// file stays as it is, with the number of SealedSecrets re-sealed and of
// those already sealed to the recipients.
func (r *resealer) file(path, shown string, stderr io.Writer) (out *resealedFile, resealed, current int, err error) {
	info, err := os.Lstat(path)
	if err != nil {
		return nil, 0, 0, err
	}
	if info.Size() > maxReencryptFile {
		fmt.Fprintf(stderr, "Warning: %s: skipped, over %d bytes\n", shown, maxReencryptFile)
		return nil, 0, 0, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, 0, err
	}
	if !bytes.Contains(data, []byte("SealedSecret")) {
		return nil, 0, 0, nil
	}
	f, err := sealfile.ParseFile(data)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s: %w", shown, err)
	}
	for _, d := range f.SealedSecrets() {
		if recorded, ok := d.Recipients(); ok && slices.Equal(recorded, r.set) {
			current++
			continue
		}
		if err := r.doc(d); err != nil {
			return nil, 0, 0, fmt.Errorf("%s: %w", shown, err)
		}
		resealed++
	}
	if resealed == 0 {
		return nil, 0, current, nil
	}
	b, reformatted, err := f.Bytes()
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s: %w", shown, err)
	}
	return &resealedFile{data: b, reformatted: reformatted}, resealed, current, nil
}

// doc decrypts every value of d and seals it again with the scope and
// target its envelope names.
func (r *resealer) doc(d *sealfile.Doc) error {
	ids, err := r.identities()
	if err != nil {
		return err
	}
	data := d.EncryptedData()
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	ref := "SealedSecret " + d.Namespace + "/" + d.Name
	for _, k := range keys {
		raw, err := base64.StdEncoding.DecodeString(data[k])
		if err != nil {
			return fmt.Errorf("%s, key %q: not standard base64", ref, k)
		}
		s, err := seal.Inspect(raw, ids...)
		if err != nil {
			return fmt.Errorf("%s, key %q: %w", ref, k, err)
		}
		sealed, err := seal.Seal(s.Value, s.Scope, s.Target, r.recipients...)
		if err != nil {
			return fmt.Errorf("%s, key %q: %w", ref, k, err)
		}
		d.SetValue(k, base64.StdEncoding.EncodeToString(sealed))
	}
	d.SetRecipients(r.set)
	return nil
}
