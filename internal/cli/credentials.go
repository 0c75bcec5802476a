package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cruisegitops/cruise/internal/apiclient"
	"github.com/cruisegitops/cruise/internal/oauthclient"
)

// credentialsFileName is the file cruise login writes, under the user's
// configuration directory (os.UserConfigDir: $XDG_CONFIG_HOME, else
// ~/.config on Linux).
const credentialsFileName = "cruise/credentials.json"

// openCredentials returns the store of the credentials file at path, or
// at <user config dir>/cruise/credentials.json when path is empty.
func openCredentials(path string) (*oauthclient.Store, error) {
	if path == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			return nil, fmt.Errorf("credentials file: %w", err)
		}
		path = filepath.Join(dir, filepath.FromSlash(credentialsFileName))
	}
	return oauthclient.OpenStore(path), nil
}

// APIOptions say whether a resource command goes through a cruise server's
// API instead of to the cluster.
type APIOptions struct {
	// Server is the cruise server to use (--server), one logged in to
	// with cruise login. Empty: the current server of the credentials
	// file, unless --kubeconfig or --context was given.
	Server string
	// CredentialsFile is cruise login's file; default
	// <user config dir>/cruise/credentials.json.
	CredentialsFile string
}

func (o *APIOptions) addFlags(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&o.Server, "server", o.Server,
		"work through this cruise server's API (default: the server of cruise login, unless --kubeconfig or --context is given)")
}

// apiSession is a logged-in client of one cruise server.
type apiSession struct {
	server string
	client *apiclient.Client
}

// session returns the API session the command should use, or nil when it
// should go to the cluster: with --server; else with a current server in
// the credentials file and neither --kubeconfig nor --context (kube is
// nil for commands that only work through the API). Errors are exit code 2.
func (o *APIOptions) session(ctx context.Context, kube *KubeOptions) (*apiSession, error) {
	explicitKube := kube != nil && (kube.Kubeconfig != "" || kube.Context != "")
	if o.Server != "" && explicitKube {
		return nil, fail(2, errors.New("--server cannot be combined with --kubeconfig or --context"))
	}
	if o.Server == "" && explicitKube {
		return nil, nil
	}
	store, err := openCredentials(o.CredentialsFile)
	if err != nil && o.Server == "" {
		return nil, nil // no config directory ($HOME unset): no login either
	} else if err != nil {
		return nil, fail(2, err)
	}
	c, err := store.Load()
	if err != nil {
		return nil, fail(2, err)
	}
	server := c.Current
	if o.Server != "" {
		if server, err = oauthclient.NormalizeServer(o.Server); err != nil {
			return nil, fail(2, fmt.Errorf("--server: %w", err))
		}
	}
	if server == "" {
		return nil, nil
	}
	login := c.Servers[server]
	if login == nil {
		return nil, fail(2, fmt.Errorf("not logged in to %s: run cruise login %s", server, server))
	}
	ts := oauthclient.NewTokenSource(ctx, store, server, login)
	client, err := apiclient.New(server, ts, apiclient.WithUserAgent("cruise/"+version))
	if err != nil {
		return nil, fail(2, err)
	}
	return &apiSession{server: server, client: client}, nil
}
