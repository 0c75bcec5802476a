// Package chartrepo fetches Helm chart archives (.tgz) from HTTP(S) Helm
// repositories (index.yaml) and OCI registries (oci://), for the
// controller (Application spec.chart) and push mode
// (`cruise build|diff|apply --chart`).
//
// # Versions
//
// A Request's Version is resolved as `helm pull --version` resolves it: a
// version equal to the string wins; otherwise the highest version
// satisfying it as a Masterminds semver constraint (">=6.12.0 <6.14.1",
// "^6", "~6.13"); "" is the newest stable version (prereleases only match
// constraints that name one). For OCI, tags are versions with "+" written
// "_"; a full semver version is pulled by tag without listing tags (as
// Helm does), anything else lists the tags. Helm would pull a partial
// version such as "6.13" as the tag "6.13"; cruise resolves it among the
// tags like a constraint, as an HTTP repository would.
//
// # Verification and bounds
//
// Every archive is checked before anyone loads it: its sha256 against the
// digest index.yaml lists (HTTP) or the chart layer's digest (OCI); its
// size while downloading (Options.MaxArchiveBytes, reading stops there);
// its entries (regular files and directories only — Helm's loader turns a
// symlink into an empty file, cruise refuses it —, no "..", nothing
// absolute, one top directory); its decompressed size
// (Options.MaxChartBytes); and its Chart.yaml's name and version against
// the request. Archive.Digest is "sha256:<hex>" of the archive bytes, the
// same for one archive whether it came over HTTP or OCI, and
// Archive.Revision is "<version>@sha256:<hex>".
//
// # Credentials
//
// Auth carries basic credentials or a bearer token, a TLS client
// certificate and an extra CA (AuthFromSecret reads them from a Secret).
// Over HTTP, credentials go only to the repository's own scheme and host:
// an archive index.yaml lists on another host is fetched without them
// (Helm's default, --pass-credentials off), and redirects to another host
// lose them (net/http). Errors name URLs without user info or query
// (pre-signed archive URLs carry secrets in the query) and never a
// credential.
//
// # OCI: go-containerregistry, not Helm's pkg/registry
//
// Helm's pkg/registry (ORAS) would add a second registry client, its own
// credential store and transport; go-containerregistry is already
// cruise's registry client (image scanning), so auth, TLS and the test
// registry (internal/image/registrytest) stay in one place. A Helm chart
// in OCI is simple enough for it: a manifest whose config has media type
// application/vnd.cncf.helm.config.v1+json and whose chart is the layer of
// type application/vnd.cncf.helm.chart.content.v1.tar+gzip. Likewise
// index.yaml is read into a small struct of our own rather than Helm's
// repo.IndexFile, whose package pulls in Helm's plugin runtime (wazero),
// ORAS and the CLI environment; unknown index fields are ignored where
// Helm's strict parser would refuse them.
//
// # Caches
//
// A Client is long-lived and shared. It caches, per repository and
// credential identity (a digest of the Auth, so one tenant's credentials
// never serve another's request): parsed indexes, OCI tag lists and a
// tag's chart layer digest for Options.IndexTTL (default one minute, so a
// hundred Applications of one repository cost one index fetch a minute);
// and verified archives by digest in an LRU bounded in bytes
// (Options.CacheBytes, default 256 MiB). Concurrent fetches of the same
// index, tag or archive share one request. Archives returned share their
// Data with the cache: callers must not modify it.
//
// # Dependencies
//
// FetchDependencies completes a loaded chart: every dependency Chart.yaml
// names that charts/ lacks is fetched from the repository it names (with
// that repository's credentials, Chart.lock's version when it still
// satisfies Chart.yaml) and attached with AddDependency.
//
// # Errors
//
// Errors are one line naming the culprit (repository URL, chart, version,
// archive entry) and match one of ErrUnreachable, ErrUnauthorized,
// ErrNotFound and ErrInvalid with errors.Is: the first is worth a retry,
// the others need the spec or the repository to change.
package chartrepo
