package notify

import (
	"bytes"
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"io"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

const (
	smtpUser     = "cruise@example.com"
	smtpPassword = "pw-SECRET-smtp-0123"
)

// received is one message the test SMTP server accepted.
type received struct {
	from string
	to   []string
	data []byte
	// tls says whether the session was encrypted when MAIL came.
	tls  bool
	user string
}

// smtpServer is a go-smtp server on loopback: STARTTLS with a certificate
// of its own test CA (unless noTLS), AUTH required (unless noAuth),
// offering the mechanisms in mechs, and answering RCPT with rcptErr.
type smtpServer struct {
	addr string
	pki  testPKI

	mechs   []string
	noAuth  bool
	rcptErr error

	mu           sync.Mutex // guards the fields below
	msgs         []received
	authAttempts int
}

type smtpServerOptions struct {
	noTLS, implicitTLS, noAuth bool
	mechs                      []string
	rcptErr                    error
}

func newSMTPServer(t *testing.T, o smtpServerOptions) *smtpServer {
	t.Helper()
	s := &smtpServer{pki: newTestPKI(t), mechs: o.mechs, noAuth: o.noAuth, rcptErr: o.rcptErr}
	if len(s.mechs) == 0 {
		s.mechs = []string{sasl.Plain}
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{srv: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = quietLog{}
	if !o.noTLS {
		srv.TLSConfig = s.pki.serverTLS()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.implicitTLS {
		ln = tls.NewListener(ln, s.pki.serverTLS())
	}
	s.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

func (s *smtpServer) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

func (s *smtpServer) attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authAttempts
}

type quietLog struct{}

func (quietLog) Printf(string, ...any) {}
func (quietLog) Println(...any)        {}

type smtpSession struct {
	srv  *smtpServer
	conn *smtp.Conn
	user string
	from string
	to   []string
}

func (s *smtpSession) AuthMechanisms() []string { return s.srv.mechs }

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	check := func(username, password string) error {
		s.srv.mu.Lock()
		s.srv.authAttempts++
		s.srv.mu.Unlock()
		if username != smtpUser || subtle.ConstantTimeCompare([]byte(password), []byte(smtpPassword)) != 1 {
			return smtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, username, password string) error { return check(username, password) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if !s.srv.noAuth && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.srv.rcptErr != nil {
		return s.srv.rcptErr
	}
	s.to = append(s.to, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.msgs = append(s.srv.msgs, received{from: s.from, to: s.to, data: data, tls: isTLS, user: s.user})
	return nil
}

func (s *smtpSession) Reset()        { s.from, s.to = "", nil }
func (s *smtpSession) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN, which go-sasl lacks.
type loginServer struct {
	check    func(username, password string) error
	step     int
	username string
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		if len(response) > 0 { // initial response: the username
			l.username = string(response)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 2:
		l.username = string(response)
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.username, string(response))
	}
}

// smtpConfig is a Provider for the server, with AUTH and its CA.
func (s *smtpServer) config() ProviderConfig {
	return ProviderConfig{
		Type: TypeSMTP, Address: s.addr,
		From: "cruise@example.com", To: []string{"oncall@example.com", "Team A <team-a@example.com>"},
		Username: smtpUser, Password: smtpPassword, CA: s.pki.caPEM, Timeout: 5 * time.Second,
	}
}

func newSMTP(t *testing.T, cfg ProviderConfig) Sender {
	t.Helper()
	snd, err := NewSMTPSender(cfg)
	if err != nil {
		t.Fatalf("NewSMTPSender: %v", err)
	}
	return snd
}

// TestSMTPDeliversOverSTARTTLSWithAuth: the e-mail goes over STARTTLS
// after AUTH (PLAIN or LOGIN, whichever the server offers), with From,
// To, Date, Message-ID and the subject and body of the message.
func TestSMTPDeliversOverSTARTTLSWithAuth(t *testing.T) {
	for _, mech := range []string{sasl.Plain, sasl.Login} {
		t.Run(mech, func(t *testing.T) {
			s := newSMTPServer(t, smtpServerOptions{mechs: []string{mech}})
			m := sampleFailedMessage()
			if err := newSMTP(t, s.config()).Send(context.Background(), m); err != nil {
				t.Fatalf("Send: %v", err)
			}
			msgs := s.received()
			if len(msgs) != 1 {
				t.Fatalf("%d messages received, want 1", len(msgs))
			}
			got := msgs[0]
			if !got.tls || got.user != smtpUser {
				t.Errorf("sent with tls=%v user=%q; want TLS and AUTH", got.tls, got.user)
			}
			if got.from != "cruise@example.com" || strings.Join(got.to, ",") != "oncall@example.com,team-a@example.com" {
				t.Errorf("envelope from %q to %v", got.from, got.to)
			}
			checkMail(t, got.data, m)
		})
	}
}

// checkMail checks the headers and body of a delivered e-mail.
func checkMail(t *testing.T, data []byte, m Message) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not an e-mail: %v\n%s", err, data)
	}
	h := msg.Header
	if got := h.Get("From"); got != "<cruise@example.com>" {
		t.Errorf("From %q", got)
	}
	if got := h.Get("To"); got != `<oncall@example.com>, "Team A" <team-a@example.com>` {
		t.Errorf("To %q", got)
	}
	if got := h.Get("Subject"); got != m.Subject {
		t.Errorf("Subject %q, want %q", got, m.Subject)
	}
	if date, err := h.Date(); err != nil || !date.Equal(m.Event.Time) {
		t.Errorf("Date %q (%v), want the event's time", h.Get("Date"), err)
	}
	if id := h.Get("Message-Id"); !strings.HasPrefix(id, "<"+m.Event.ID+".") || !strings.HasSuffix(id, "@example.com>") {
		t.Errorf("Message-ID %q", id)
	}
	if got := h.Get("Auto-Submitted"); got != "auto-generated" {
		t.Errorf("Auto-Submitted %q", got)
	}
	if got := h.Get("X-Mailer"); got != "cruise" {
		t.Errorf("X-Mailer %q", got)
	}
	var body io.Reader = msg.Body
	if strings.EqualFold(h.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	text, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	// DATA ends the text with a line break.
	if got := strings.TrimSuffix(strings.ReplaceAll(string(text), "\r\n", "\n"), "\n"); got != m.Body {
		t.Errorf("body %q, want %q", got, m.Body)
	}
}

// TestSMTPImplicitTLS: mode tls speaks TLS from the first byte.
func TestSMTPImplicitTLS(t *testing.T) {
	s := newSMTPServer(t, smtpServerOptions{implicitTLS: true})
	cfg := s.config()
	cfg.TLSMode = TLSImplicit
	if err := newSMTP(t, cfg).Send(context.Background(), sampleFailedMessage()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if msgs := s.received(); len(msgs) != 1 || !msgs[0].tls || msgs[0].user != smtpUser {
		t.Fatalf("received %+v", msgs)
	}
}

// TestSMTPRefusesWithoutSTARTTLS: a server that does not offer STARTTLS
// gets nothing, not even the password: a final error saying why.
func TestSMTPRefusesWithoutSTARTTLS(t *testing.T) {
	for _, withAuth := range []bool{true, false} {
		s := newSMTPServer(t, smtpServerOptions{noTLS: true, noAuth: !withAuth})
		cfg := s.config()
		if !withAuth {
			cfg.Username, cfg.Password = "", ""
		}
		err := newSMTP(t, cfg).Send(context.Background(), sampleFailedMessage())
		if err == nil || errors.Is(err, ErrRetryable) {
			t.Fatalf("want a final error, got %v", err)
		}
		if !strings.Contains(err.Error(), "STARTTLS") || !strings.Contains(err.Error(), s.addr) {
			t.Errorf("error does not say STARTTLS is missing at %s: %v", s.addr, err)
		}
		if s.attempts() != 0 || len(s.received()) != 0 {
			t.Errorf("the server got %d AUTH attempts and %d messages", s.attempts(), len(s.received()))
		}
	}
}

// TestSMTPWrongPassword: a refused AUTH is final and names the server,
// never the password.
func TestSMTPWrongPassword(t *testing.T) {
	s := newSMTPServer(t, smtpServerOptions{})
	cfg := s.config()
	cfg.Password = "pw-SECRET-wrong-9876"
	err := newSMTP(t, cfg).Send(context.Background(), sampleFailedMessage())
	if err == nil || errors.Is(err, ErrRetryable) {
		t.Fatalf("want a final error, got %v", err)
	}
	if !strings.Contains(err.Error(), s.addr) || !strings.Contains(err.Error(), "535") {
		t.Errorf("error does not name the server and its answer: %v", err)
	}
	assertNoSecret(t, "error", err.Error(), cfg.Password, smtpPassword)
}

// TestSMTPNoAnswer: a port that accepts and never answers times out
// within the Provider's timeout, as retryable.
func TestSMTPNoAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	held := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held <- c // accepted, never answered
		}
	}()
	t.Cleanup(func() {
		for len(held) > 0 {
			(<-held).Close()
		}
	})
	cfg := ProviderConfig{Type: TypeSMTP, Address: ln.Addr().String(), From: "cruise@example.com",
		To: []string{"oncall@example.com"}, Timeout: 300 * time.Millisecond}
	start := time.Now()
	err = newSMTP(t, cfg).Send(context.Background(), sampleFailedMessage())
	elapsed := time.Since(start)
	if !errors.Is(err, ErrRetryable) {
		t.Fatalf("want a retryable error, got %v", err)
	}
	if elapsed < 250*time.Millisecond || elapsed > 2*time.Second {
		t.Errorf("gave up after %s with a timeout of 300ms", elapsed)
	}
	if !strings.Contains(err.Error(), "no answer within 300ms") || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Errorf("error does not say it timed out at the server: %v", err)
	}
}

// TestSMTPCancel: cancelling the context ends an attempt at once.
func TestSMTPCancel(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- c
		}
	}()
	cfg := ProviderConfig{Type: TypeSMTP, Address: ln.Addr().String(), From: "cruise@example.com",
		To: []string{"oncall@example.com"}, Timeout: time.Minute}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- newSMTP(t, cfg).Send(ctx, sampleFailedMessage()) }()
	select {
	case c := <-accepted:
		t.Cleanup(func() { c.Close() })
	case <-time.After(5 * time.Second):
		t.Fatal("never connected")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, ErrRetryable) {
			t.Errorf("want a retryable error, got %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Send did not return after its context was cancelled")
	}
}

// TestSMTPReplyClassification: 4xx replies are retryable, 5xx final.
func TestSMTPReplyClassification(t *testing.T) {
	for _, c := range []struct {
		code      int
		retryable bool
	}{{451, true}, {452, true}, {550, false}, {553, false}} {
		s := newSMTPServer(t, smtpServerOptions{rcptErr: &smtp.SMTPError{Code: c.code, EnhancedCode: smtp.EnhancedCode{c.code / 100, 1, 1}, Message: "not now"}})
		err := newSMTP(t, s.config()).Send(context.Background(), sampleFailedMessage())
		if err == nil || errors.Is(err, ErrRetryable) != c.retryable {
			t.Errorf("RCPT %d: want retryable %v, got %v", c.code, c.retryable, err)
		}
	}
}

// TestSMTPUntrustedCertificate: a certificate of another CA is final.
func TestSMTPUntrustedCertificate(t *testing.T) {
	s := newSMTPServer(t, smtpServerOptions{})
	cfg := s.config()
	cfg.CA = newTestPKI(t).caPEM
	err := newSMTP(t, cfg).Send(context.Background(), sampleFailedMessage())
	if err == nil || errors.Is(err, ErrRetryable) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("want a final certificate error, got %v", err)
	}
	if s.attempts() != 0 {
		t.Error("the password went to an untrusted server")
	}
}

// TestSMTPPlainWithoutAuth: mode none without credentials sends in clear
// text, which is what it says.
func TestSMTPPlainWithoutAuth(t *testing.T) {
	s := newSMTPServer(t, smtpServerOptions{noTLS: true, noAuth: true})
	cfg := s.config()
	cfg.TLSMode, cfg.Username, cfg.Password = TLSNone, "", ""
	if err := newSMTP(t, cfg).Send(context.Background(), sampleFailedMessage()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if msgs := s.received(); len(msgs) != 1 || msgs[0].tls {
		t.Fatalf("received %+v", msgs)
	}
}

// TestSMTPMessageIDIsStable: a retry carries the same Message-ID, a
// different rendering of the event another.
func TestSMTPMessageIDIsStable(t *testing.T) {
	s := newSMTPServer(t, smtpServerOptions{})
	snd := newSMTP(t, s.config())
	m := sampleFailedMessage()
	other := m
	other.Subject = "another template"
	for _, msg := range []Message{m, m, other} {
		if err := snd.Send(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	for _, r := range s.received() {
		msg, err := mail.ReadMessage(bytes.NewReader(r.data))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, msg.Header.Get("Message-Id"))
	}
	if len(ids) != 3 || ids[0] != ids[1] || ids[0] == ids[2] {
		t.Errorf("Message-IDs %v: want the first two equal, the third different", ids)
	}
}

// TestSMTPConfigValidation: bad configuration is refused up front with
// the field named and no secret shown.
func TestSMTPConfigValidation(t *testing.T) {
	good := ProviderConfig{Type: TypeSMTP, Address: "smtp.example.com:587", From: "cruise@example.com",
		To: []string{"oncall@example.com"}, Username: smtpUser, Password: smtpPassword}
	cases := []struct {
		name string
		edit func(*ProviderConfig)
		want string
	}{
		{"no address", func(c *ProviderConfig) { c.Address = "" }, "address is required"},
		{"URL address", func(c *ProviderConfig) { c.Address = "smtp://smtp.example.com:587" }, "not host:port"},
		{"bad port", func(c *ProviderConfig) { c.Address = "smtp.example.com:99999" }, "port"},
		{"word port", func(c *ProviderConfig) { c.Address = "smtp.example.com:smtp" }, "port"},
		{"no from", func(c *ProviderConfig) { c.From = "" }, "smtp.from is required"},
		{"bad from", func(c *ProviderConfig) { c.From = "cruise" }, "smtp.from"},
		{"no to", func(c *ProviderConfig) { c.To = nil }, "smtp.to"},
		{"bad to", func(c *ProviderConfig) { c.To = []string{"a@example.com", "b@"} }, "smtp.to[1]"},
		{"bad tls", func(c *ProviderConfig) { c.TLSMode = "ssl" }, "smtp.tls"},
		{"password in clear", func(c *ProviderConfig) { c.TLSMode = TLSNone }, "without TLS"},
		{"username only", func(c *ProviderConfig) { c.Password = "" }, `"password"`},
		{"password only", func(c *ProviderConfig) { c.Username = "" }, `"username"`},
		{"bad CA", func(c *ProviderConfig) { c.CA = []byte("-----BEGIN CERTIFICATE-----\nnope\n") }, "ca.crt"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := good
			c.edit(&cfg)
			_, err := NewSMTPSender(cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error with %q, got %v", c.want, err)
			}
			assertNoSecret(t, "error", err.Error(), smtpPassword)
		})
	}
	for _, addr := range []string{"smtp.example.com", "smtp.example.com:2525", "[::1]:25", "::1", "127.0.0.1"} {
		cfg := good
		cfg.Address = addr
		if _, err := NewSMTPSender(cfg); err != nil {
			t.Errorf("%s refused: %v", addr, err)
		}
	}
}
