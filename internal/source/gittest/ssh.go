package gittest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// NewKey generates an ed25519 client key and returns it as OpenSSH PEM,
// encrypted when passphrase is not empty, with its public half.
func NewKey(t testing.TB, passphrase string) (pemBytes []byte, pub ssh.PublicKey) {
	t.Helper()
	pk, sk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("gittest: generate key: %v", err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(sk, "gittest")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(sk, "gittest", []byte(passphrase))
	}
	if err != nil {
		t.Fatalf("gittest: marshal key: %v", err)
	}
	pub, err = ssh.NewPublicKey(pk)
	if err != nil {
		t.Fatalf("gittest: public key: %v", err)
	}
	return pem.EncodeToMemory(block), pub
}

// SSHServer serves the repositories under a root directory over SSH:
// `git-upload-pack` (fetches) and `git-receive-pack` (pushes) for the one
// client key it authorizes.
type SSHServer struct {
	// Addr is "127.0.0.1:<port>".
	Addr string
	// HostKey is the server's public host key.
	HostKey ssh.PublicKey

	root     string
	config   *ssh.ServerConfig
	listener net.Listener
	wg       sync.WaitGroup

	mu         sync.Mutex
	conns      map[net.Conn]struct{} // guarded by mu; closed on cleanup
	authorized []byte                // guarded by mu; the client key, wire format
}

// ServeSSH serves root on 127.0.0.1 until the test ends, accepting only
// the client key authorized, for any user name.
func ServeSSH(t testing.TB, root string, authorized ssh.PublicKey) *SSHServer {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("gittest: git binary needed to serve SSH: %v", err)
	}
	_, hostKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("gittest: generate host key: %v", err)
	}
	signer, err := ssh.NewSignerFromKey(hostKey)
	if err != nil {
		t.Fatalf("gittest: host key signer: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("gittest: listen: %v", err)
	}
	s := &SSHServer{
		Addr:       l.Addr().String(),
		HostKey:    signer.PublicKey(),
		root:       root,
		listener:   l,
		conns:      map[net.Conn]struct{}{},
		authorized: authorized.Marshal(),
	}
	s.config = &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if bytes.Equal(key.Marshal(), s.authorized) {
				return &ssh.Permissions{}, nil
			}
			return nil, errors.New("key not authorized")
		},
	}
	s.config.AddHostKey(signer)
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.close)
	return s
}

// RepoURL is the ssh:// URL of repository name.
func (s *SSHServer) RepoURL(name string) string { return "ssh://git@" + s.Addr + "/" + name }

// KnownHosts is the known_hosts line for this server:
// "[127.0.0.1]:<port> ssh-ed25519 AAAA...".
func (s *SSHServer) KnownHosts() []byte {
	return []byte(knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, s.HostKey) + "\n")
}

// Authorize replaces the client key the server accepts, for connections
// made from now on, as when a deploy key is rotated or revoked.
func (s *SSHServer) Authorize(key ssh.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authorized = key.Marshal()
}

func (s *SSHServer) close() {
	s.listener.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *SSHServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.listener.Accept()
		if err != nil {
			return // listener closed
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

func (s *SSHServer) serveConn(c net.Conn) {
	defer c.Close()
	sc, chans, reqs, err := ssh.NewServerConn(c, s.config)
	if err != nil {
		return // handshake refused (wrong key, wrong host key check, ...)
	}
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	defer wg.Wait()
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveSession(ch, chReqs)
		}()
	}
}

// serveSession waits for an exec request and runs it.
func (s *SSHServer) serveSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" {
			req.Reply(false, nil)
			continue
		}
		var payload struct{ Command string }
		if err := ssh.Unmarshal(req.Payload, &payload); err != nil {
			req.Reply(false, nil)
			return
		}
		service, dir, err := s.parseCommand(payload.Command)
		if err != nil {
			req.Reply(false, nil)
			fmt.Fprintln(ch.Stderr(), err)
			return
		}
		req.Reply(true, nil)
		go ssh.DiscardRequests(reqs)
		status := s.run(ch, service, dir)
		ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
		return
	}
}

// parseCommand parses "git-upload-pack '<path>'" or "git-receive-pack
// '<path>'" into the git subcommand and the path mapped into root,
// refusing any other command.
func (s *SSHServer) parseCommand(command string) (service, dir string, err error) {
	for _, service := range []string{"upload-pack", "receive-pack"} {
		rest, ok := strings.CutPrefix(command, "git-"+service+" ")
		if !ok {
			continue
		}
		p, err := shellUnquote(strings.TrimSpace(rest))
		if err != nil {
			return "", "", err
		}
		clean := filepath.Clean("/" + p)
		return service, filepath.Join(s.root, clean), nil
	}
	return "", "", fmt.Errorf("gittest: only git-upload-pack and git-receive-pack are served, not %q", command)
}

func (s *SSHServer) run(ch ssh.Channel, service, dir string) uint32 {
	cmd := exec.Command("git", service, dir)
	cmd.Env = []string{"GIT_CONFIG_NOSYSTEM=1", "HOME=" + s.root}
	cmd.Stdout = ch
	cmd.Stderr = ch.Stderr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 1
	}
	if err := cmd.Start(); err != nil {
		return 1
	}
	// Copy stdin ourselves: exec's own copier would keep Wait blocked on
	// a client that never closes its side.
	go func() {
		io.Copy(stdin, ch)
		stdin.Close()
	}()
	if err := cmd.Wait(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return uint32(exitErr.ExitCode())
		}
		return 1
	}
	return 0
}

// shellUnquote undoes git's sq_quote, which wraps the path in single
// quotes and writes an embedded quote as quote, backslash, quote, quote.
// An unquoted word is taken as it is.
func shellUnquote(s string) (string, error) {
	if !strings.HasPrefix(s, "'") {
		return s, nil
	}
	var b strings.Builder
	for len(s) > 0 {
		if s[0] != '\'' {
			return "", fmt.Errorf("gittest: bad quoting in %q", s)
		}
		end := strings.IndexByte(s[1:], '\'')
		if end < 0 {
			return "", fmt.Errorf("gittest: unterminated quote in %q", s)
		}
		b.WriteString(s[1 : 1+end])
		s = s[end+2:]
		if strings.HasPrefix(s, `\`) && len(s) >= 2 {
			b.WriteByte(s[1])
			s = s[2:]
		}
	}
	return b.String(), nil
}
