// Package webhook receives push webhooks from Git forges so that a push
// reaches the cluster in seconds: the operator fetches the matching
// GitRepository at once instead of at its next poll. Polling stays the
// safety net; a lost, refused or throttled webhook only delays a change
// until then.
//
// The handler knows nothing of Kubernetes. It calls two narrow
// interfaces: [Receivers] finds a configured [Receiver] by the token in the
// URL, and [Trigger] is told about each verified push ([Event]) and asks
// for a fetch of every GitRepository whose URL [Event.Matches].
// [NewHandler] ties them into an http.Handler. [Annotator] (annotate.go,
// the package's only Kubernetes code) is the operator's Trigger: it sets
// the annotation cruise.dev/reconcile-at on the matching GitRepositories
// through the API server, so every replica of the operator answers
// webhooks and the leader's reconciler does the fetch.
//
// # Request flow
//
// One endpoint, POST /hook/{name}, where name is the receiver's
// unguessable token. The handler runs these phases in order, and the first
// that fails decides the status:
//
//	method is not POST                                405 (Allow: POST)
//	no receiver by that name                          404, same body for every unknown name
//	receiver failed verification too often lately     429 (Retry-After), not verified
//	body over Options.MaxBodyBytes (default 1 MiB)    413
//	signature or token missing or wrong               401
//	event is not a push (GitHub ping)                 200 {"triggered":0,"repositories":[],"message":"ping received"}
//	event is not a push (anything else)               204
//	payload not JSON, or names no repository          400
//	generic: "url" outside the receiver's RepoURLs    403
//	Trigger returns an error                          500
//	no GitRepository matches the push                 200 {"triggered":0,"repositories":[],"message":"no GitRepository matches <url>"}
//	otherwise                                         202 {"triggered":N,"repositories":["<namespace>/<name>",...]}
//
// [Response] documents the body. A push that matches nothing is a 200, not
// an error status: an organization-wide hook names repositories the
// cluster does not deploy from, and GitLab disables hooks that keep
// failing; the message still shows in the host's delivery log.
//
// The body is read once, through http.MaxBytesReader, and the signature is
// checked over exactly those bytes before any of them is parsed: nothing
// from an unauthenticated request reaches the JSON decoder or the
// Trigger.
//
// # Providers
//
// Each provider is one file, citing the documentation it follows:
//
//   - github (github.go): X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256;
//   - gitlab (gitlab.go): X-Gitlab-Token = the secret itself;
//   - gitea and forgejo (gitea.go): X-Gitea-Signature or
//     X-Forgejo-Signature = hex HMAC-SHA256, no prefix;
//   - generic (generic.go): cruise's own X-Cruise-Signature =
//     "sha256=" + hex HMAC-SHA256, with an optional {"url","ref"} body.
//
// # Security
//
// Signatures and tokens are compared in constant time (hmac.Equal; a GitLab
// token is hashed first so its length does not leak either). A receiver
// without a secret refuses every request. Log lines name the receiver, the
// provider, the event, the delivery id and, on failure, the header and the
// reason, never a secret, token or signature value. Error responses are
// fixed strings.
//
// Failed verifications are rate limited per receiver ([Options.FailureBurst],
// [Options.FailureInterval]): once a receiver's budget is spent it answers
// 429 without checking, so a secret cannot be guessed at network speed.
// Valid requests spend nothing. The price is that a legitimate push
// arriving while someone hammers the same receiver is refused and waits
// for the poll; that is the trade-off chosen, because the endpoint is only
// an accelerator.
//
// The signatures carry no timestamp (GitHub, Gitea and the GitLab token
// alike), so a captured request can be replayed. A replay can only cause a
// fetch of a repository that already is what it is: triggers are
// idempotent, which is why the package keeps no replay cache.
//
// # Matching repositories
//
// A push names its repository in several spellings (https clone URL, ssh
// clone URL, web URL); [Event.RepoURLs] has them all. [NormalizeURL] maps
// each spelling to "host/owner/repo" so the operator can compare them with
// a GitRepository's URL, whichever form that uses. A GitRepository on a
// local path or a file:// URL matches no push: it is opened in place on
// the operator's disk, and only its poll picks changes up.
package webhook
