// Package e2e holds end-to-end tests that run the real cruise binary as a
// separate process against the local control plane: what only a process
// boundary can show, such as a controller killed in the middle of a sync
// and two replicas electing a leader.
package e2e
