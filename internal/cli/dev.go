package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cruisegitops/cruise/internal/devcluster"
)

// DevOptions configures the `cruise dev` commands.
type DevOptions struct {
	// Dir holds the control plane's state; default <user cache dir>/cruise/dev.
	Dir string
	// BinDir holds the control-plane binaries; default $KUBEBUILDER_ASSETS,
	// else bin/k8s above the working directory.
	BinDir string
	// Full starts the full profile (controllers, scheduler, fake nodes).
	Full bool
	// Nodes is the number of fake nodes in the full profile.
	Nodes int
	// Controller also runs `cruise controller` against the local cluster.
	Controller bool
	// Example deploys the guestbook example from a local Git repository
	// (implies Controller).
	Example bool
	// Server runs `cruise server` on ServerAddr (implies Controller).
	Server     bool
	ServerAddr string
	// ControllerBinary is the cruise binary that runs the controller;
	// default this one.
	ControllerBinary string
}

func newDevCommand() *cobra.Command {
	opts := &DevOptions{}
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a local Kubernetes control plane for trying cruise",
		Long: `Run a real local Kubernetes control plane (etcd and kube-apiserver; with
--full also kube-controller-manager, kube-scheduler and kwok's fake nodes) on
127.0.0.1, in the background, with its state under the user's cache directory.

The binaries come from ` + "`make cluster-bins`" + `, which builds them from source.`,
	}
	cmd.PersistentFlags().StringVar(&opts.Dir, "dir", "", "state directory (default <user cache dir>/cruise/dev)")
	cmd.PersistentFlags().StringVar(&opts.BinDir, "bin-dir", "", "directory with the control-plane binaries (default $"+devcluster.BinDirEnv+" or ./bin/k8s)")
	up := &cobra.Command{
		Use:   "up",
		Short: "Start the local control plane (no-op when it already runs)",
		Long: `Start the local control plane in the background and print the line that
points kubectl at it, so that ` + "`eval \"$(cruise dev up)\"`" + ` works. Progress goes to
stderr. Running it again while the control plane is up starts nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return devUp(cmd, opts) },
	}
	up.Flags().BoolVar(&opts.Full, "full", false, "also run controllers, scheduler and fake nodes, so Pods become Ready")
	up.Flags().IntVar(&opts.Nodes, "nodes", 1, "number of fake nodes (with --full)")
	up.Flags().BoolVar(&opts.Controller, "controller", false, "also run the cruise controller against it")
	up.Flags().BoolVar(&opts.Example, "example", false, "deploy the guestbook example from a local Git repository (implies --controller)")
	up.Flags().BoolVar(&opts.Server, "server", false, "also run cruise server (web UI and API) with a local admin account (implies --controller)")
	up.Flags().StringVar(&opts.ServerAddr, "server-addr", "127.0.0.1:8080", "loopback address of the web UI with --server")
	up.Flags().StringVar(&opts.ControllerBinary, "cruise-binary", "", "cruise binary that runs the controller (default: this one)")
	cmd.AddCommand(up,
		&cobra.Command{
			Use:   "down",
			Short: "Stop the local control plane and delete its data",
			Args:  cobra.NoArgs,
			RunE:  func(cmd *cobra.Command, _ []string) error { return devDown(cmd, opts) },
		},
		&cobra.Command{
			Use:   "status",
			Short: "Show whether the local control plane runs (exit 1 when it does not)",
			Args:  cobra.NoArgs,
			RunE:  func(cmd *cobra.Command, _ []string) error { return devStatus(cmd, opts) },
		},
	)
	return cmd
}

func (o *DevOptions) complete() error {
	if err := o.completeDir(); err != nil {
		return err
	}
	if o.BinDir == "" {
		d, err := devcluster.FindBinDir(os.Getenv(devcluster.BinDirEnv))
		if err != nil {
			return err
		}
		o.BinDir = d
	}
	return nil
}

// completeDir fills in only the state directory: down and status must work
// even where no binaries are around.
func (o *DevOptions) completeDir() error {
	if o.Dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return fmt.Errorf("find cache dir (use --dir): %w", err)
		}
		o.Dir = filepath.Join(cache, "cruise", "dev")
	}
	return nil
}

func devUp(cmd *cobra.Command, o *DevOptions) error {
	if err := o.complete(); err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	if c, err := devcluster.Load(o.Dir); err == nil {
		_, dead := c.Running()
		if len(dead) == 0 {
			fmt.Fprintf(stderr, "Local control plane (%s profile) is already running at %s.\n", c.Profile, c.Server)
			fmt.Fprintf(cmd.OutOrStdout(), "export KUBECONFIG=%s\n", c.Kubeconfig)
			return nil
		}
		// A half-dead control plane (machine rebooted, a component crashed)
		// is replaced rather than patched up.
		fmt.Fprintf(stderr, "Replacing a broken control plane (not running: %s).\n", strings.Join(dead, ", "))
		if err := c.Stop(); err != nil {
			return fmt.Errorf("stop broken control plane: %w", err)
		}
	} else if !errors.Is(err, devcluster.ErrNotRunning) {
		return err
	}
	// Data of an earlier run is stale: its certificates and ports are gone.
	if err := os.RemoveAll(o.Dir); err != nil {
		return fmt.Errorf("clear %s: %w", o.Dir, err)
	}
	profile := devcluster.ProfileAPI
	if o.Full {
		profile = devcluster.ProfileFull
	}
	fmt.Fprintf(stderr, "Starting local control plane (%s profile) in %s ...\n", profile, o.Dir)
	start := time.Now()
	c, err := devcluster.Start(cmd.Context(), devcluster.Options{
		Profile: profile,
		Dir:     o.Dir,
		BinDir:  o.BinDir,
		Detach:  true,
		Durable: true,
		Nodes:   o.Nodes,
	})
	if err != nil {
		return fmt.Errorf("start local control plane: %w", err)
	}
	fmt.Fprintf(stderr, "Ready in %s: API server %s, logs in %s.\n",
		time.Since(start).Round(100*time.Millisecond), c.Server, filepath.Join(o.Dir, "logs"))
	if o.Controller || o.Example || o.Server {
		if err := installCRDs(cmd.Context(), c); err != nil {
			return err
		}
		if err := startDevController(c, o.Dir, o.ControllerBinary); err != nil {
			return fmt.Errorf("start cruise controller: %w", err)
		}
		fmt.Fprintf(stderr, "cruise controller running, log in %s.\n", filepath.Join(o.Dir, "logs", "cruise-controller.log"))
	}
	if o.Example {
		if err := deployExample(cmd.Context(), stderr, c, o.Dir); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "Edit %s, commit, and watch cruise deploy it: cruise get apps -n default\n", filepath.Join(o.Dir, "example"))
	}
	if o.Server {
		if err := startDevServer(cmd.Context(), stderr, c, o.Dir, o.ControllerBinary, o.ServerAddr); err != nil {
			return fmt.Errorf("start cruise server: %w", err)
		}
	}
	fmt.Fprintf(cmd.OutOrStdout(), "export KUBECONFIG=%s\n", c.Kubeconfig)
	return nil
}

func devDown(cmd *cobra.Command, o *DevOptions) error {
	if err := o.completeDir(); err != nil {
		return err
	}
	c, err := devcluster.Load(o.Dir)
	if errors.Is(err, devcluster.ErrNotRunning) {
		fmt.Fprintln(cmd.OutOrStdout(), "No local control plane is running.")
		return nil
	}
	if err != nil {
		return err
	}
	if err := c.Stop(); err != nil {
		// Stop keeps the state when a component survives, so running
		// this again finds it; say which ones are left.
		msg := "stop local control plane"
		if still := stillRunning(c); len(still) > 0 {
			msg += ": still running: " + strings.Join(still, ", ")
		}
		return fmt.Errorf("%s (state kept in %s; run `cruise dev down` again): %w", msg, o.Dir, err)
	}
	if err := os.RemoveAll(o.Dir); err != nil {
		return fmt.Errorf("remove %s: %w", o.Dir, err)
	}
	fmt.Fprintln(cmd.OutOrStdout(), "Local control plane stopped and its data removed.")
	return nil
}

// stillRunning names the recorded components that still run, with their
// PIDs.
func stillRunning(c *devcluster.Cluster) []string {
	var out []string
	for _, p := range c.Processes {
		if p.Alive() {
			out = append(out, fmt.Sprintf("%s (pid %d)", p.Name, p.PID))
		}
	}
	return out
}

func devStatus(cmd *cobra.Command, o *DevOptions) error {
	if err := o.completeDir(); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	c, err := devcluster.Load(o.Dir)
	if errors.Is(err, devcluster.ErrNotRunning) {
		fmt.Fprintln(out, "No local control plane is running. Start one with `cruise dev up`.")
		return &ExitError{Code: 1}
	}
	if err != nil {
		return err
	}
	alive, dead := c.Running()
	fmt.Fprintf(out, "profile:    %s\nserver:     %s\nkubeconfig: %s\nstarted:    %s\n",
		c.Profile, c.Server, c.Kubeconfig, c.Started.Format(time.RFC3339))
	for _, name := range alive {
		fmt.Fprintf(out, "  %-24s running\n", name)
	}
	for _, name := range dead {
		fmt.Fprintf(out, "  %-24s NOT RUNNING\n", name)
	}
	if len(dead) > 0 {
		fmt.Fprintln(out, "The control plane is broken; `cruise dev up` replaces it.")
		return &ExitError{Code: 1}
	}
	return nil
}
