// Package chartrepotest runs chart repositories on loopback for tests:
// an HTTP repository (index.yaml and archives, optionally HTTPS, mutual
// TLS, basic or bearer auth, archives on a second host) and an OCI
// registry holding charts as Helm OCI artifacts (internal/image/registrytest
// underneath). It also packages charts in process (Chart, Package,
// PackageDir) and builds hostile archives entry by entry (TarGz).
//
// Other packages' tests use it too: the controller's and the CLI's chart
// tests, and the 100-Applications benchmark.
package chartrepotest
