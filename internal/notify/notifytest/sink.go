package notifytest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/internal/notify"
)

// Request is one request a Sink received.
type Request struct {
	Time   time.Time
	Method string
	Header http.Header
	Body   []byte
	// Event is the body decoded; Fields the body's top-level keys.
	Event  notify.Event
	Fields map[string]json.RawMessage
	// SignatureOK: X-Cruise-Signature is the HMAC of the body under the
	// sink's key (false when the sink has none).
	SignatureOK bool
	// Status the sink answered.
	Status int
}

// Response is a scripted answer.
type Response struct {
	Status int
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string
	Body       string
}

// Sink is a webhook receiver on loopback.
type Sink struct {
	*httptest.Server
	key []byte

	mu       sync.Mutex
	requests []Request  // guarded by mu
	script   []Response // guarded by mu; answers for the next requests, then 200
}

// NewSink starts a sink verifying signatures with key (nil: none); it is
// closed when the test ends.
func NewSink(t testing.TB, key []byte) *Sink {
	t.Helper()
	s := &Sink{key: key}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Respond scripts the answers to the next requests, in order.
func (s *Sink) Respond(rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, rs...)
}

func (s *Sink) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := Request{Time: time.Now(), Method: r.Method, Header: r.Header.Clone(), Body: body}
	_ = json.Unmarshal(body, &req.Event)
	_ = json.Unmarshal(body, &req.Fields)
	if len(s.key) > 0 {
		req.SignatureOK = validSignature(s.key, body, r.Header.Get(notify.HeaderSignature))
	}
	s.mu.Lock()
	resp := Response{Status: http.StatusOK}
	if len(s.script) > 0 {
		resp, s.script = s.script[0], s.script[1:]
	}
	req.Status = resp.Status
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	if resp.RetryAfter != "" {
		w.Header().Set("Retry-After", resp.RetryAfter)
	}
	w.WriteHeader(resp.Status)
	_, _ = io.WriteString(w, resp.Body)
}

// validSignature checks "sha256=<hex>" in constant time.
func validSignature(key, body []byte, header string) bool {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// Requests returns every request so far, in order.
func (s *Sink) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Delivered returns the events it accepted (answered 2xx), in order.
func (s *Sink) Delivered() []notify.Event {
	var out []notify.Event
	for _, r := range s.Requests() {
		if r.Status >= 200 && r.Status < 300 {
			out = append(out, r.Event)
		}
	}
	return out
}

// Count returns how many accepted events have the type; with objects, only
// those about one of them ("Kind/namespace/name").
func (s *Sink) Count(typ notify.EventType, objects ...string) int {
	n := 0
	for _, e := range s.Delivered() {
		if e.Type != typ {
			continue
		}
		if len(objects) == 0 {
			n++
			continue
		}
		for _, o := range objects {
			if e.Object.String() == o {
				n++
				break
			}
		}
	}
	return n
}

// Dead listens on loopback, accepts connections and never answers; it
// returns the URL to reach it. Closed when the test ends.
func Dead(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			mu.Lock()
			conns = append(conns, c) // held open, never read or written
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String() + "/hook"
}
