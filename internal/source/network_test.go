package source

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/internal/source/gittest"
)

func TestFetchUnreachable(t *testing.T) {
	key, _ := gittest.NewKey(t, "")
	addr := closedAddr(t)
	tests := []struct {
		name string
		url  string
		auth *Auth
	}{
		{"http closed port", "http://" + addr + "/repo.git", nil},
		{"ssh closed port", "ssh://git@" + addr + "/repo.git", &Auth{SSHPrivateKey: key, KnownHosts: []byte("[127.0.0.1]:1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const timeout = 30 * time.Second
			f := newFetcher(t, Options{Timeout: timeout})
			start := time.Now()
			_, err := f.Fetch(t.Context(), Request{URL: tc.url, Auth: tc.auth})
			wantErr(t, err, ErrUnreachable, "git: cannot reach "+tc.url)
			// A refused connection must fail at once, not after the timeout.
			if elapsed := time.Since(start); elapsed >= timeout {
				t.Errorf("took %s, the whole timeout", elapsed)
			}
		})
	}
}

func TestFetchTimeout(t *testing.T) {
	// A server that accepts the request and never answers.
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) })

	f := newFetcher(t, Options{Timeout: 200 * time.Millisecond})
	_, err := f.Fetch(t.Context(), Request{URL: srv.URL + "/repo.git"})
	wantErr(t, err, ErrUnreachable, "git: cannot reach "+srv.URL+"/repo.git: no answer within 200ms")
}

// silentServer accepts TCP connections and never says a word, like a
// wedged load balancer. Connections stay open until the test ends.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

func TestFetchSSHTimeout(t *testing.T) {
	key, _ := gittest.NewKey(t, "")
	url := "ssh://git@" + silentServer(t) + "/repo.git"
	f := newFetcher(t, Options{Timeout: 200 * time.Millisecond, InsecureIgnoreHostKey: true})
	req := Request{URL: url, Auth: &Auth{SSHPrivateKey: key}}
	_, err := f.Fetch(t.Context(), req)
	wantErr(t, err, ErrUnreachable, "git: cannot reach "+url+": no answer within 200ms")
	// The first fetch's handshake is still stuck and holds the URL lock;
	// the next one must give up too, not hang behind it.
	_, err = f.Fetch(t.Context(), req)
	wantErr(t, err, ErrUnreachable, "git: another fetch of "+url+" is still running after 200ms")
}
