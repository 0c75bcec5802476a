// Package helmtest is test support for code that renders Helm charts: it
// runs the real helm CLI (bin/tools/helm, built by `make test` from the
// version pinned in hack/tools/helm), gives the paths of the public charts
// vendored in internal/helm/testdata/charts, parses rendered streams into
// objects, and compares two sets of objects the way the Helm issue asks
// cruise's rendering to match Helm's: same objects, same fields, except
// labels and annotations under cruise.dev/.
//
// Every helm command runs with its own HELM_* homes in a test's temporary
// directory and with HTTP(S) proxies pointing at a closed loopback port,
// so no user configuration, repository list or cache leaks in and only
// loopback servers (Helm's repotest, registrytest) can be reached.
//
// It is imported by tests only.
package helmtest
