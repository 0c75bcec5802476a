// Package devcluster starts and stops a real local Kubernetes control plane:
// the same etcd, kube-apiserver, kube-controller-manager and kube-scheduler
// binaries a production cluster runs, built from source by `make
// cluster-bins`, plus kwok to simulate nodes and the kubelet's work on pods.
//
// There is no container runtime on the machines cruise is developed and
// tested on, and nothing may be downloaded at test time, so this package
// plays the role kind or envtest play elsewhere. Two profiles exist:
//
//   - ProfileAPI: etcd and kube-apiserver. Starts in a few seconds; enough
//     for anything that only talks to the API (apply, diff, prune, CRDs).
//   - ProfileFull: adds kube-controller-manager, kube-scheduler and kwok with
//     fake nodes, so Deployments create ReplicaSets and Pods, Pods are
//     scheduled and become Ready, and health checks can be tested for real.
//
// Everything listens on 127.0.0.1 on free ports and lives in one directory
// (a temporary one unless Options.Dir says otherwise), together with a
// kubeconfig for an administrator. Clients authenticate with a client
// certificate from a CA generated at start-up, as on a real cluster.
//
// A Cluster started by a test belongs to the test process: its processes are
// put in their own process groups and receive SIGKILL if the test binary
// dies, so an interrupted or crashed test leaves nothing behind. A Cluster
// started with Options.Detach outlives its caller (`cruise dev up`); its
// State is written to the directory so that Load can find and stop it later.
// The State names each process by PID, start time and resolved binary path,
// so Stop never signals a stranger that reused a PID, and never mistakes a
// component started through a symlink for one that is gone.
package devcluster
