package notify

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// smtpSender sends e-mail through one SMTP server with go-mail.
type smtpSender struct {
	host string
	port int
	// addr is host:port, the server's name in errors.
	addr     string
	mode     string
	from     string
	to       []string
	username string
	password string
	tls      *tls.Config
	timeout  time.Duration
}

// Default ports by TLS mode, when the address names none: submission
// (RFC 6409), submissions (RFC 8314), and SMTP.
var smtpDefaultPorts = map[string]int{TLSStartTLS: 587, TLSImplicit: 465, TLSNone: 25}

// NewSMTPSender builds the sender of an smtp Provider. cfg.Address is
// host:port (the port defaults to 587, 465 or 25 by TLS mode); cfg.From
// and cfg.To are required; cfg.TLSMode is starttls (the default: the
// server must offer STARTTLS or nothing is sent), tls (implicit TLS) or
// none. A username and password (SMTP AUTH, PLAIN or LOGIN as the server
// offers) need TLS: with none they are refused, so a password never
// crosses the network in the clear. cfg.CA, when set, is the only CA
// trusted for the server's certificate.
func NewSMTPSender(cfg ProviderConfig) (Sender, error) {
	mode := cfg.TLSMode
	if mode == "" {
		mode = TLSStartTLS
	}
	if _, ok := smtpDefaultPorts[mode]; !ok {
		return nil, fmt.Errorf("smtp: smtp.tls %q is not one of starttls, tls, none", cfg.TLSMode)
	}
	host, port, err := splitSMTPAddress(cfg.Address, smtpDefaultPorts[mode])
	if err != nil {
		return nil, err
	}
	if cfg.From == "" {
		return nil, errors.New("smtp: smtp.from is required")
	}
	if _, err := mail.ParseAddress(cfg.From); err != nil {
		return nil, fmt.Errorf("smtp: smtp.from %q is not an e-mail address: %w", cfg.From, err)
	}
	if len(cfg.To) == 0 {
		return nil, errors.New("smtp: smtp.to needs at least one address")
	}
	for i, to := range cfg.To {
		if _, err := mail.ParseAddress(to); err != nil {
			return nil, fmt.Errorf("smtp: smtp.to[%d] %q is not an e-mail address: %w", i, to, err)
		}
	}
	switch {
	case (cfg.Username == "") != (cfg.Password == ""):
		return nil, errors.New("smtp: the Secret needs both \"username\" and \"password\" for SMTP AUTH, or neither")
	case cfg.Password != "" && mode == TLSNone:
		return nil, errors.New("smtp: smtp.tls none with a username and password: refusing to send a password without TLS (use starttls or tls)")
	}
	tlsConfig, err := tlsClientConfig(cfg.CA)
	if err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	tlsConfig.ServerName = host
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = defaultAttemptTimeout
	}
	return &smtpSender{
		host: host, port: port, addr: net.JoinHostPort(host, strconv.Itoa(port)), mode: mode,
		from: cfg.From, to: append([]string(nil), cfg.To...),
		username: cfg.Username, password: cfg.Password,
		tls: tlsConfig, timeout: timeout,
	}, nil
}

// splitSMTPAddress reads host[:port].
func splitSMTPAddress(address string, defaultPort int) (string, int, error) {
	if address == "" {
		return "", 0, errors.New("smtp: address is required (host:port of the SMTP server)")
	}
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		// No port: the whole address is the host (an IPv6 one in brackets).
		host, portText = strings.TrimSuffix(strings.TrimPrefix(address, "["), "]"), ""
	}
	if host == "" || strings.ContainsAny(host, "/:@ ") && net.ParseIP(host) == nil {
		return "", 0, fmt.Errorf("smtp: address %q is not host:port", address)
	}
	port := defaultPort
	if portText != "" {
		port, err = strconv.Atoi(portText)
		if err != nil || port < 1 || port > 65535 {
			return "", 0, fmt.Errorf("smtp: address %q: port %q is not a number from 1 to 65535", address, portText)
		}
	}
	return host, port, nil
}

// Send makes one attempt to deliver m to every recipient, within the
// Provider's timeout (or ctx's deadline, if sooner): the whole
// conversation, not each read, is bounded, and cancelling ctx closes the
// connection. SMTP 4xx replies and connection failures are retryable;
// 5xx replies, a missing STARTTLS, a refused certificate or failed AUTH
// are final.
func (s *smtpSender) Send(ctx context.Context, m Message) error {
	msg, err := s.message(m)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", s.addr, err)
	}
	deadline := time.Now().Add(s.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()

	conns := &connTracker{}
	defer conns.closeAll()
	stop := context.AfterFunc(ctx, conns.closeAll)
	defer stop()

	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(max(time.Until(deadline), time.Millisecond)),
		gomail.WithTLSConfig(s.tls),
		gomail.WithDialContextFunc(s.dialer(deadline, conns)),
		// go-mail's NOOP before sending and RSET after it cost two round
		// trips and tell nothing on a fresh connection.
		gomail.WithoutNoop(),
	}
	switch s.mode {
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		// The dialer makes the TLS connection (see dialer).
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.username != "" {
		opts = append(opts,
			gomail.WithUsername(s.username), gomail.WithPassword(s.password),
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin))
	}
	client, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", s.addr, err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return s.classify(ctx, err)
	}
	return nil
}

// dialer connects within the attempt's deadline, and for implicit TLS
// makes the TLS connection itself (go-mail would dial without the
// attempt's context otherwise). It dials s.addr, not go-mail's
// "host:port", which is wrong for an IPv6 host. Every connection is
// tracked so that the end of the attempt closes it.
func (s *smtpSender) dialer(deadline time.Time, conns *connTracker) gomail.DialContextFunc {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		d := net.Dialer{Deadline: deadline}
		raw, err := d.DialContext(ctx, network, s.addr)
		if err != nil {
			return nil, err
		}
		conn := net.Conn(&deadlineConn{Conn: raw, deadline: deadline})
		if err := conn.SetDeadline(deadline); err != nil {
			raw.Close()
			return nil, err
		}
		conns.add(raw)
		if s.mode != TLSImplicit {
			return conn, nil
		}
		tc := tls.Client(conn, s.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, err
		}
		return tc, nil
	}
}

// message builds the e-mail: From, To, Date (the event's time), a
// Message-ID that is the same on every retry of the same delivery (so a
// mailbox can drop a duplicate), Auto-Submitted (RFC 3834: no
// out-of-office replies), User-Agent and X-Mailer "cruise", the subject
// and a plain text body.
func (s *smtpSender) message(m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return nil, fmt.Errorf("smtp.from: %w", err)
	}
	if err := msg.To(s.to...); err != nil {
		return nil, fmt.Errorf("smtp.to: %w", err)
	}
	date := m.Event.Time
	if date.IsZero() {
		date = time.Now()
	}
	msg.SetDateWithValue(date)
	msg.SetMessageIDWithValue(s.messageID(m))
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetUserAgent("cruise")
	subject := flattenSpace(m.Subject)
	if subject == "" {
		subject = fmt.Sprintf("[cruise] %s/%s %s", m.Event.Object.Namespace, m.Event.Object.Name, m.Event.Type)
	}
	msg.Subject(subject)
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	return msg, nil
}

// messageID is "<event id>.<digest>@<sender's domain>": the digest of the
// recipients and subject keeps two renderings of one event (two Alerts,
// two Providers) apart, since mailboxes drop a repeated Message-ID.
func (s *smtpSender) messageID(m Message) string {
	domain := "cruise.invalid"
	if a, err := mail.ParseAddress(s.from); err == nil {
		if _, d, ok := strings.Cut(a.Address, "@"); ok && d != "" {
			domain = d
		}
	}
	sum := sha256.Sum256([]byte(strings.Join(s.to, ",") + "\n" + m.Subject + "\n" + m.Event.ID))
	id := msgIDSafe(m.Event.ID)
	if id == "" {
		id = strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	return id + "." + hex.EncodeToString(sum[:6]) + "@" + domain
}

// msgIDSafe keeps the characters a Message-ID's left part may hold
// unquoted (RFC 5322 dot-atom-text, conservatively).
func msgIDSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.", r)) {
			b.WriteRune(r)
		}
	}
	return strings.Trim(b.String(), ".")
}

// classify turns go-mail's error into a retryable or final one naming
// the server. go-mail's errors name neither the password nor the
// username; the server's reply is kept, since it says what went wrong.
func (s *smtpSender) classify(ctx context.Context, err error) error {
	wrapped := fmt.Errorf("smtp %s: %w", s.addr, err)
	var netErr net.Error
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return Retryable(fmt.Errorf("smtp %s: %w (%w)", s.addr, ctx.Err(), err))
	case ctx.Err() != nil || errors.As(err, &netErr) && netErr.Timeout():
		// The connection's deadline is the attempt's: whichever fires
		// first, the server did not answer in time.
		return Retryable(fmt.Errorf("smtp %s: no answer within %s: %w", s.addr, s.timeout, err))
	}
	var reply *textproto.Error
	if errors.As(err, &reply) {
		if reply.Code >= 400 && reply.Code < 500 {
			return Retryable(wrapped)
		}
		return wrapped
	}
	var sendErr *gomail.SendError
	if errors.As(err, &sendErr) {
		switch code := sendErr.ErrorCode(); {
		case code >= 500:
			return wrapped
		case code >= 400 || sendErr.IsTemp():
			return Retryable(wrapped)
		}
		// go-mail found no reply code: the connection failed mid-way,
		// unless the message itself is at fault.
		switch sendErr.Reason {
		case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
			return wrapped
		}
		return Retryable(wrapped)
	}
	if isCertificateError(err) {
		return wrapped
	}
	var tlsAlert tls.AlertError
	if errors.As(err, &tlsAlert) {
		return wrapped
	}
	if errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed) {
		return Retryable(wrapped)
	}
	// What is left is go-mail refusing to go on: no STARTTLS offered, no
	// AUTH mechanism in common. Retrying changes nothing.
	return wrapped
}

// deadlineConn keeps every deadline go-mail sets within the attempt's:
// go-mail pushes the deadline forward by its timeout before each
// command, which would let a slow server stretch one attempt.
type deadlineConn struct {
	net.Conn
	deadline time.Time
}

func (c *deadlineConn) clamp(t time.Time) time.Time {
	if t.IsZero() || t.After(c.deadline) {
		return c.deadline
	}
	return t
}

func (c *deadlineConn) SetDeadline(t time.Time) error { return c.Conn.SetDeadline(c.clamp(t)) }
func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	return c.Conn.SetReadDeadline(c.clamp(t))
}
func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	return c.Conn.SetWriteDeadline(c.clamp(t))
}

// connTracker closes the connections of one attempt when it ends or its
// context is cancelled.
type connTracker struct {
	mu     sync.Mutex // guards conns
	conns  []net.Conn
	closed bool
}

func (t *connTracker) add(c net.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		c.Close()
		return
	}
	t.conns = append(t.conns, c)
}

func (t *connTracker) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	for _, c := range t.conns {
		c.Close()
	}
	t.conns = nil
}
