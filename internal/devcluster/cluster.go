package devcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Profile selects which components a Cluster runs.
type Profile string

const (
	// ProfileAPI runs etcd and kube-apiserver only.
	ProfileAPI Profile = "api"
	// ProfileFull adds kube-controller-manager, kube-scheduler and kwok.
	ProfileFull Profile = "full"
)

// serviceCIDR is the cluster's Service IP range; serviceIP is the first
// address in it, which the "kubernetes" Service gets.
const (
	serviceCIDR = "10.96.0.0/16"
	serviceIP   = "10.96.0.1"
)

// Options configures Start. The zero value starts an api-profile cluster in
// a temporary directory with binaries found by FindBinDir.
type Options struct {
	// Profile is ProfileAPI when empty.
	Profile Profile
	// Dir holds data, certificates, logs and the kubeconfig. When empty a
	// temporary directory is created and removed again by Stop.
	Dir string
	// BinDir holds etcd, kube-apiserver and the other binaries. When empty,
	// FindBinDir decides.
	BinDir string
	// Detach makes the processes outlive the calling process; Stop or
	// Load(...).Stop() ends them. Used by `cruise dev up`.
	Detach bool
	// Nodes is the number of fake nodes in the full profile; default 1.
	Nodes int
	// Durable keeps etcd's fsync on. Tests leave it off (as envtest does)
	// because they throw the data away.
	Durable bool
	// StartTimeout bounds the whole start-up; default 2 minutes.
	StartTimeout time.Duration
}

// State is what a running Cluster records in its directory (state.json).
type State struct {
	Profile    Profile        `json:"profile"`
	Dir        string         `json:"dir"`
	Kubeconfig string         `json:"kubeconfig"`
	Server     string         `json:"server"`
	Processes  []ProcessState `json:"processes"`
	Started    time.Time      `json:"started"`
}

// Cluster is a running control plane.
type Cluster struct {
	State
	tempDir bool
	detach  bool
	procs   []*process // started by this process; nil for a loaded cluster
	pki     *pki
}

const stateFile = "state.json"

// Start starts a control plane and returns when its API is ready (and, for
// the full profile, when the fake nodes are Ready and the controllers run).
// On error everything already started is stopped again.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	if opts.Profile == "" {
		opts.Profile = ProfileAPI
	}
	if opts.Profile != ProfileAPI && opts.Profile != ProfileFull {
		return nil, fmt.Errorf("unknown profile %q (want %q or %q)", opts.Profile, ProfileAPI, ProfileFull)
	}
	if opts.Nodes <= 0 {
		opts.Nodes = 1
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 2 * time.Minute
	}
	bins, err := resolveBinaries(opts.BinDir, opts.Profile)
	if err != nil {
		return nil, err
	}

	c := &Cluster{State: State{Profile: opts.Profile, Started: time.Now()}, detach: opts.Detach}
	if opts.Dir == "" {
		d, err := os.MkdirTemp("", "cruise-devcluster-")
		if err != nil {
			return nil, fmt.Errorf("create cluster dir: %w", err)
		}
		opts.Dir, c.tempDir = d, true
	} else if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create cluster dir: %w", err)
	}
	if c.Dir, err = filepath.Abs(opts.Dir); err != nil {
		return nil, fmt.Errorf("cluster dir: %w", err)
	}
	defer func() {
		if err != nil {
			_ = c.Stop()
		}
	}()

	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()

	if c.pki, err = newPKI(filepath.Join(c.Dir, "pki")); err != nil {
		return nil, err
	}
	etcdURL, err := c.startEtcd(ctx, bins, opts)
	if err != nil {
		return nil, err
	}
	if err := c.startAPIServer(ctx, bins, opts, etcdURL); err != nil {
		return nil, err
	}
	if opts.Profile == ProfileFull {
		if err := c.startFull(ctx, bins, opts); err != nil {
			return nil, err
		}
	}
	if err := c.save(); err != nil {
		return nil, err
	}
	return c, nil
}

// Spawn starts one more process that belongs to the cluster (for `cruise
// dev`, the cruise controller), logging to logs/<name>.log; Stop ends it
// first. It lives as long as the cluster's own components do.
func (c *Cluster) Spawn(name, bin string, args []string) error {
	if c.procs == nil {
		return fmt.Errorf("spawn %s: cluster was not started by this process", name)
	}
	if _, err := c.start(name, bin, args, c.detach); err != nil {
		return err
	}
	return c.save()
}

// RESTConfig returns a client configuration with administrator rights.
func (c *Cluster) RESTConfig() (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig %s: %w", c.Kubeconfig, err)
	}
	// Tests create many objects quickly; client-side throttling would only
	// measure itself.
	cfg.QPS, cfg.Burst = 200, 400
	return cfg, nil
}

// Stop stops every component, most dependent first, and removes the
// directory if Start created a temporary one. It is safe to call twice.
// When a component does not stop, the recorded state stays, so that a
// later Load finds what still runs.
func (c *Cluster) Stop() error {
	var errs []error
	if c.procs != nil {
		for i := len(c.procs) - 1; i >= 0; i-- {
			errs = append(errs, c.procs[i].stop())
		}
		c.procs = nil
	} else {
		for i := len(c.Processes) - 1; i >= 0; i-- {
			errs = append(errs, stopRecorded(c.Processes[i]))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if c.Dir != "" {
		if c.tempDir {
			errs = append(errs, os.RemoveAll(c.Dir))
		} else if err := os.Remove(filepath.Join(c.Dir, stateFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Running reports which recorded components are still alive.
func (c *Cluster) Running() (alive, dead []string) {
	for _, p := range c.Processes {
		if p.Alive() {
			alive = append(alive, p.Name)
		} else {
			dead = append(dead, p.Name)
		}
	}
	return alive, dead
}

// ErrNotRunning is returned by Load when the directory holds no cluster.
var ErrNotRunning = errors.New("no local control plane recorded")

// Load reads the state of a cluster started (usually detached) in dir.
func Load(dir string) (*Cluster, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s", ErrNotRunning, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("read cluster state: %w", err)
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, stateFile), err)
	}
	return &Cluster{State: st}, nil
}

func (c *Cluster) save() error {
	c.Processes = c.Processes[:0]
	for _, p := range c.procs {
		c.Processes = append(c.Processes, p.ProcessState)
	}
	data, err := json.MarshalIndent(c.State, "", "  ")
	if err != nil {
		return fmt.Errorf("encode cluster state: %w", err)
	}
	tmp := filepath.Join(c.Dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write cluster state: %w", err)
	}
	return os.Rename(tmp, filepath.Join(c.Dir, stateFile))
}

func (c *Cluster) start(name, bin string, args []string, detach bool) (*process, error) {
	p, err := startProcess(c.Dir, name, bin, args, detach)
	if err != nil {
		return nil, err
	}
	c.procs = append(c.procs, p)
	return p, nil
}

// writeKubeconfig writes an administrator kubeconfig for server to path.
func (c *Cluster) writeKubeconfig(path, server string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["cruise-dev"] = &clientcmdapi.Cluster{Server: server, CertificateAuthority: c.pki.caCert}
	cfg.AuthInfos["cruise-admin"] = &clientcmdapi.AuthInfo{ClientCertificate: c.pki.adminCert, ClientKey: c.pki.adminKey}
	cfg.Contexts["cruise-dev"] = &clientcmdapi.Context{Cluster: "cruise-dev", AuthInfo: "cruise-admin", Namespace: "default"}
	cfg.CurrentContext = "cruise-dev"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}

// freePorts reserves n distinct free TCP ports on 127.0.0.1. The listeners
// are closed before the ports are handed to the components, so another
// process could take one in between; start-up then fails with the
// component's own "address in use" message rather than hanging.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("reserve port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
