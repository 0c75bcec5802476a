// Command cruise is the GitOps continuous-deployment tool for Kubernetes:
// operator, push-based CLI, API server and authorization server in one binary.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/cruisegitops/cruise/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
