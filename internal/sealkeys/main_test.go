package sealkeys_test

import (
	"context"
	"os"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/internal/devcluster"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
)

var (
	env *clustertest.Env
	k8s client.Client
)

func TestMain(m *testing.M) {
	os.Exit(clustertest.Main(m, devcluster.ProfileAPI, &env, func(_ context.Context, e *clustertest.Env) error {
		scheme, err := clustertest.Scheme()
		if err != nil {
			return err
		}
		k8s, err = client.New(e.Config, client.Options{Scheme: scheme})
		return err
	}))
}
