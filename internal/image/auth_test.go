package image

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
)

func TestAuthFromDockerConfig(t *testing.T) {
	cfg := `{"auths":{
		"https://index.docker.io/v1/":{"auth":"aHViOnNlY3JldA=="},
		"reg.local:5000":{"username":"u","password":"p"},
		"tok.example":{"registrytoken":"bearer-xyz"}}}`
	tests := []struct {
		registry string
		want     authn.AuthConfig
	}{
		{"index.docker.io", authn.AuthConfig{Username: "hub", Password: "secret"}},
		{"reg.local:5000", authn.AuthConfig{Username: "u", Password: "p"}},
		{"tok.example", authn.AuthConfig{RegistryToken: "bearer-xyz"}},
		{"other.example", authn.AuthConfig{}},
	}
	for _, tt := range tests {
		a, err := AuthFromDockerConfig([]byte(cfg), tt.registry)
		if err != nil {
			t.Fatal(err)
		}
		got, err := authn.Authorization(context.Background(), a)
		if err != nil {
			t.Fatal(err)
		}
		got.Auth = "" // Authorization fills it in from the user and password
		if *got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.registry, *got, tt.want)
		}
	}
	for _, bad := range []string{`{`, `{"auths":{"r":{"auth":"!!"}}}`, `{"auths":{"r":{"auth":"bm9jb2xvbg=="}}}`} {
		_, err := AuthFromDockerConfig([]byte(bad), "r")
		if err == nil {
			t.Errorf("%s: accepted", bad)
		} else if strings.Contains(err.Error(), "nocolon") {
			t.Errorf("error shows the credential: %v", err)
		}
	}
}

func TestTransportRefusesBadPEM(t *testing.T) {
	if _, err := Transport([]byte("not pem"), nil, nil); err == nil {
		t.Fatal("bad CA accepted")
	}
	if _, err := Transport(nil, []byte("x"), []byte("y")); err == nil {
		t.Fatal("bad client certificate accepted")
	}
}
