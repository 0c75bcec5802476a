package gitwrite

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// Signer signs a commit: it gets the commit encoded without a signature
// and returns the armored signature git stores in the gpgsig header. The
// shape is go-git's git.Signer.
type Signer interface {
	Sign(message io.Reader) ([]byte, error)
}

// maxSigningKey bounds a signing key read from a Secret.
const maxSigningKey = 64 << 10

// NewSSHSigner signs as `git -c gpg.format=ssh` does (an SSHSIG in the
// "git" namespace, SHA-512), with an OpenSSH or PEM private key.
// sshsig is the implementation Flux uses for the same job.
func NewSSHSigner(privateKey, passphrase []byte) (Signer, error) {
	if len(privateKey) > maxSigningKey {
		return nil, fmt.Errorf("SSH signing key over %d bytes", maxSigningKey)
	}
	var (
		s   ssh.Signer
		err error
	)
	if len(passphrase) > 0 {
		s, err = ssh.ParsePrivateKeyWithPassphrase(privateKey, passphrase)
	} else {
		s, err = ssh.ParsePrivateKey(privateKey)
	}
	if err != nil {
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return nil, errors.New("the SSH signing key is encrypted: add its passphrase")
		}
		return nil, fmt.Errorf("SSH signing key: %w", err)
	}
	return sshSigner{s}, nil
}

type sshSigner struct{ s ssh.Signer }

func (s sshSigner) Sign(message io.Reader) ([]byte, error) {
	sig, err := sshsig.Sign(message, s.s, sshsig.HashSHA512, "git")
	if err != nil {
		return nil, fmt.Errorf("SSH-sign commit: %w", err)
	}
	return sshsig.Armor(sig), nil
}

// NewOpenPGPSigner signs with the first signing-capable key of an armored
// OpenPGP private key, decrypting it with passphrase when it is encrypted.
func NewOpenPGPSigner(armored, passphrase []byte) (Signer, error) {
	if len(armored) > maxSigningKey {
		return nil, fmt.Errorf("OpenPGP signing key over %d bytes", maxSigningKey)
	}
	ents, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armored))
	if err != nil {
		return nil, fmt.Errorf("OpenPGP signing key: %w", err)
	}
	if len(ents) == 0 || ents[0].PrivateKey == nil {
		return nil, errors.New("OpenPGP signing key: no private key in the armored block")
	}
	e := ents[0]
	if e.PrivateKey.Encrypted {
		if len(passphrase) == 0 {
			return nil, errors.New("the OpenPGP signing key is encrypted: add its passphrase")
		}
		if err := e.DecryptPrivateKeys(passphrase); err != nil {
			return nil, errors.New("the OpenPGP signing key's passphrase is wrong")
		}
	}
	return pgpSigner{e}, nil
}

type pgpSigner struct{ e *openpgp.Entity }

func (s pgpSigner) Sign(message io.Reader) ([]byte, error) {
	var b bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&b, s.e, message, nil); err != nil {
		return nil, fmt.Errorf("OpenPGP-sign commit: %w", err)
	}
	return b.Bytes(), nil
}

// NewSigner picks the signer for a key: an armored OpenPGP block or an SSH
// private key.
func NewSigner(key, passphrase []byte) (Signer, error) {
	if strings.Contains(string(key), "BEGIN PGP PRIVATE KEY BLOCK") {
		return NewOpenPGPSigner(key, passphrase)
	}
	return NewSSHSigner(key, passphrase)
}
