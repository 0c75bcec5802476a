package source

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

func TestRemoteMessagesHideCredentials(t *testing.T) {
	const pass, token = "p@ss w0rd/+", "tok-3f9a"
	raw := (&url.URL{Scheme: "https", User: url.UserPassword("bot", pass), Host: "git.example.com", Path: "/team/repo.git"}).String()
	r, err := NewRemote(raw, &Auth{BearerToken: token}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	const display = "https://git.example.com/team/repo.git"
	if r.String() != display || r.URL() != display {
		t.Errorf("String() = %q, URL() = %q, want both %q", r.String(), r.URL(), display)
	}
	// A cause that repeats the credentials in every form a library may
	// print them, over several lines, as a server's "remote:" lines are.
	cause := errors.New("Post \"" + raw + "\": refused\nremote: token " + token +
		" is not valid\nremote: password " + url.QueryEscape(pass) + " " + url.PathEscape(pass) + " " + pass)
	err = r.Errorf(ErrAuth, cause, "push to %s refused", r)
	t.Log(err)
	if !errors.Is(err, ErrAuth) || !errors.Is(err, cause) {
		t.Errorf("error %v does not wrap both ErrAuth and its cause", err)
	}
	userinfoEscaped := strings.TrimPrefix(url.UserPassword("", pass).String(), ":")
	for _, secret := range []string{pass, url.QueryEscape(pass), url.PathEscape(pass), userinfoEscaped, token, "\n"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows %q: %q", secret, err)
		}
	}
	if !strings.HasPrefix(err.Error(), "git: push to "+display+" refused: ") {
		t.Errorf("error %q does not start with its own message", err)
	}
}

func TestRemoteClassify(t *testing.T) {
	r, err := NewRemote("https://git.example.com/team/repo.git", nil, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	ours := r.Errorf(ErrRefNotFound, nil, "branch %q not found in %s", "main", r)
	tests := []struct {
		name    string
		ctx     context.Context
		err     error
		kind    error // nil: no sentinel
		wantMsg string
	}{
		{"refused credentials", context.Background(), transport.ErrAuthorizationFailed, ErrAuth,
			"git: authorization failed for https://git.example.com/team/repo.git"},
		{"no repository", context.Background(), transport.ErrRepositoryNotFound, ErrRepoNotFound,
			"git: repository not found at https://git.example.com/team/repo.git"},
		{"out of time", expired, errors.New("read: i/o timeout"), ErrUnreachable,
			"git: cannot reach https://git.example.com/team/repo.git: no answer within 1s"},
		{"something else", context.Background(), errors.New("non-fast-forward update"), nil,
			"git: push to https://git.example.com/team/repo.git failed: non-fast-forward update"},
		{"already classified", context.Background(), ours, ErrRefNotFound, ours.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Classify(tt.ctx, "push to", tt.err)
			if err.Error() != tt.wantMsg {
				t.Errorf("message = %q, want %q", err, tt.wantMsg)
			}
			for _, kind := range []error{ErrAuth, ErrRepoNotFound, ErrUnreachable, ErrRefNotFound, ErrHostKey} {
				if errors.Is(err, kind) != (kind == tt.kind) {
					t.Errorf("errors.Is(%v, %v) = %v", err, kind, !(kind == tt.kind))
				}
			}
		})
	}
	if r.Classify(context.Background(), "push to", nil) != nil {
		t.Error("Classify(nil) is not nil")
	}
}
