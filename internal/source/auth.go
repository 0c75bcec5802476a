package source

import (
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"
)

// Auth holds the credentials for one repository. Only the fields that suit
// the URL's transport are used: Username/Password or BearerToken for
// http(s), SSHPrivateKey/SSHPassphrase/KnownHosts (and Username, default
// "git") for ssh. Values are never logged nor put into errors.
type Auth struct {
	// Username and Password are HTTP basic-auth credentials. A token used
	// as a password (GitHub, GitLab) goes here too.
	Username, Password string
	// BearerToken is sent as "Authorization: Bearer <token>"; it wins over
	// Username/Password.
	BearerToken string
	// SSHPrivateKey is a PEM or OpenSSH private key.
	SSHPrivateKey []byte
	// SSHPassphrase decrypts SSHPrivateKey when it is encrypted.
	SSHPassphrase string
	// KnownHosts is known_hosts content the SSH server's key is checked
	// against. Required for ssh unless Options.InsecureIgnoreHostKey.
	KnownHosts []byte
}

// AuthFromData reads credentials from the data of a Kubernetes Secret
// (keys username, password, bearerToken, identity, passphrase,
// known_hosts), the format GitRepository.spec.secretRef documents.
func AuthFromData(d map[string][]byte) *Auth {
	return &Auth{
		Username:      string(d["username"]),
		Password:      string(d["password"]),
		BearerToken:   string(d["bearerToken"]),
		SSHPrivateKey: d["identity"],
		SSHPassphrase: string(d["passphrase"]),
		KnownHosts:    d["known_hosts"],
	}
}

// secrets returns everything in a that must not be printed.
func (a *Auth) secrets(loc *location) secrets {
	s := secrets{loc.password}
	if loc.kind == kindHTTP {
		// Tokens are often passed as the URL's user name.
		s = append(s, loc.user)
	}
	if a != nil {
		s = append(s, a.Password, a.BearerToken, a.SSHPassphrase)
	}
	return s
}

// transportAuth returns the go-git auth method for loc, or nil for
// anonymous http(s). timeout bounds the SSH TCP dial, which go-git does not
// tie to the context.
func transportAuth(loc *location, a *Auth, insecureHostKey bool, timeout time.Duration) (transport.AuthMethod, error) {
	if a == nil {
		a = &Auth{}
	}
	switch loc.kind {
	case kindHTTP:
		switch {
		case a.BearerToken != "":
			return &githttp.TokenAuth{Token: a.BearerToken}, nil
		case a.Username != "" || a.Password != "":
			return &githttp.BasicAuth{Username: a.Username, Password: a.Password}, nil
		case loc.user != "" || loc.password != "":
			return &githttp.BasicAuth{Username: loc.user, Password: loc.password}, nil
		}
		return nil, nil
	case kindSSH:
		return sshAuthFor(loc, a, insecureHostKey, timeout)
	}
	return nil, nil
}

// sshAuth is our go-git ssh.AuthMethod. We implement it instead of using
// gitssh.PublicKeys so the client config also carries the dial timeout and
// host key algorithms, and so no code path falls back to ~/.ssh/known_hosts
// or an ssh-agent, neither of which exists in the controller.
type sshAuth struct {
	user      string
	signer    ssh.Signer
	hostKeys  ssh.HostKeyCallback
	hostAlgos []string
	timeout   time.Duration
}

func (a *sshAuth) Name() string   { return "ssh-public-keys" }
func (a *sshAuth) String() string { return fmt.Sprintf("user: %s, name: %s", a.user, a.Name()) }

// ClientConfig implements go-git's ssh.AuthMethod.
func (a *sshAuth) ClientConfig() (*ssh.ClientConfig, error) {
	return &ssh.ClientConfig{
		User:              a.user,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(a.signer)},
		HostKeyCallback:   a.hostKeys,
		HostKeyAlgorithms: a.hostAlgos,
		Timeout:           a.timeout,
	}, nil
}

func sshAuthFor(loc *location, a *Auth, insecureHostKey bool, timeout time.Duration) (*sshAuth, error) {
	if len(a.SSHPrivateKey) == 0 {
		return nil, newError(ErrAuth, nil, nil, "ssh private key required for %s", loc.display)
	}
	signer, err := ssh.ParsePrivateKey(a.SSHPrivateKey)
	if _, ok := err.(*ssh.PassphraseMissingError); ok {
		if a.SSHPassphrase == "" {
			return nil, newError(ErrAuth, nil, nil, "ssh private key for %s is encrypted and no passphrase was given", loc.display)
		}
		signer, err = ssh.ParsePrivateKeyWithPassphrase(a.SSHPrivateKey, []byte(a.SSHPassphrase))
	}
	if err != nil {
		return nil, newError(ErrAuth, err, a.secrets(loc), "cannot use ssh private key for %s", loc.display)
	}
	user := loc.user
	if user == "" {
		user = a.Username
	}
	if user == "" {
		user = "git"
	}
	auth := &sshAuth{user: user, signer: signer, timeout: timeout}
	if insecureHostKey {
		auth.hostKeys = ssh.InsecureIgnoreHostKey()
		return auth, nil
	}
	if len(a.KnownHosts) == 0 {
		return nil, newError(ErrHostKey, nil, nil, "no known_hosts given for ssh host %s", loc.hostPort)
	}
	db, err := knownHostsDB(a.KnownHosts)
	if err != nil {
		return nil, newError(ErrHostKey, err, nil, "cannot parse known_hosts for %s", loc.hostPort)
	}
	check := db.HostKeyCallback()
	auth.hostKeys = func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		if err := check(hostname, remote, key); err != nil {
			return &hostKeyError{host: hostname, cause: err}
		}
		return nil
	}
	// Offer only the key types known_hosts has for this host, otherwise the
	// server may present another of its keys and fail a correct entry.
	auth.hostAlgos = db.HostKeyAlgorithms(loc.hostPort)
	return auth, nil
}

// knownHostsDB parses known_hosts content. The parsers only read files, so
// the content goes through a short-lived temporary file (it holds public
// keys only).
func knownHostsDB(content []byte) (*knownhosts.HostKeyDB, error) {
	f, err := os.CreateTemp("", "cruise-known-hosts-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(content); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return knownhosts.NewDB(f.Name())
}

// hostKeyError is returned by our host key callback; the ssh handshake
// wraps it with %w so classify can find it.
type hostKeyError struct {
	host  string
	cause error
}

func (e *hostKeyError) Error() string {
	return "host key rejected for " + e.host + ": " + e.cause.Error()
}
func (e *hostKeyError) Unwrap() error { return e.cause }

func (e *hostKeyError) toError() error {
	var keyErr *xknownhosts.KeyError
	var revoked *xknownhosts.RevokedError
	switch {
	case errors.As(e.cause, &revoked):
		return newError(ErrHostKey, nil, nil, "ssh host key for %s is revoked (known_hosts)", e.host)
	case errors.As(e.cause, &keyErr) && len(keyErr.Want) > 0:
		return newError(ErrHostKey, nil, nil, "ssh host key mismatch for %s (known_hosts)", e.host)
	case errors.As(e.cause, &keyErr):
		return newError(ErrHostKey, nil, nil, "ssh host %s is not in known_hosts", e.host)
	default:
		return newError(ErrHostKey, e.cause, nil, "ssh host key check failed for %s", e.host)
	}
}
