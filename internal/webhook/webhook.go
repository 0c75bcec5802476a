package webhook

import (
	"context"
	"log/slog"
	"time"
)

// Provider names the sender of a webhook and so its signature scheme, its
// event header and its payload shape.
type Provider string

// The providers a [Receiver] can be configured for.
const (
	// ProviderGitHub verifies X-Hub-Signature-256 and reads push events.
	ProviderGitHub Provider = "github"
	// ProviderGitLab verifies X-Gitlab-Token and reads Push Hook and
	// Tag Push Hook events.
	ProviderGitLab Provider = "gitlab"
	// ProviderGitea verifies X-Gitea-Signature or X-Forgejo-Signature and
	// reads push events; it serves Gitea, Forgejo and Codeberg alike.
	ProviderGitea Provider = "gitea"
	// ProviderForgejo is ProviderGitea under the name Forgejo users expect.
	ProviderForgejo Provider = "forgejo"
	// ProviderGeneric verifies X-Cruise-Signature and triggers either the
	// URL named in the body or the receiver's configured RepoURLs. It is
	// for CI jobs, scripts and forges without a dedicated provider.
	ProviderGeneric Provider = "generic"
)

// Event is a verified push: the repository it names and the ref it moved.
type Event struct {
	// Receiver is the name of the receiver that accepted the request.
	Receiver string
	// Provider is the receiver's provider.
	Provider Provider
	// RepoURLs are the repository URLs the event names, as the provider
	// sent them (https clone URL, ssh clone URL, web URL), without
	// duplicates. Compare them with [NormalizeURL] or [Event.Matches].
	RepoURLs []string
	// Ref is the pushed ref, e.g. "refs/heads/main" or "refs/tags/v1.2.0";
	// "" when the request does not say.
	Ref string
	// Delivery is the provider's delivery id (X-GitHub-Delivery,
	// X-Gitlab-Event-UUID, X-Gitea-Delivery, X-Forgejo-Delivery), for
	// logs; "" when absent.
	Delivery string
}

// Matches reports whether repoURL names one of the event's repositories,
// comparing the [NormalizeURL] forms so that https, ssh and scp-style
// spellings of the same repository match.
func (e Event) Matches(repoURL string) bool {
	want := NormalizeURL(repoURL)
	if want == "" {
		return false
	}
	for _, u := range e.RepoURLs {
		if NormalizeURL(u) == want {
			return true
		}
	}
	return false
}

// Trigger acts on a verified push: it asks for a fetch of every
// GitRepository whose URL the event [Event.Matches] and returns their
// "namespace/name", sorted, which the handler reports to the sender; none
// is a valid answer (the push names a repository this cluster does not
// deploy from). [Annotator] is the operator's Trigger. Trigger is called on
// the request's goroutine with the request's context, so it should ask for
// work rather than do it. On error it may still have asked for some
// fetches; the sender then gets a 500 all the same.
type Trigger interface {
	Trigger(ctx context.Context, ev Event) ([]string, error)
}

// TriggerFunc adapts a function to [Trigger].
type TriggerFunc func(ctx context.Context, ev Event) ([]string, error)

// Trigger calls f(ctx, ev).
func (f TriggerFunc) Trigger(ctx context.Context, ev Event) ([]string, error) { return f(ctx, ev) }

// Receiver is one configured webhook endpoint, served at /hook/<Name>.
type Receiver struct {
	// Name is the path token. Anyone who knows it can make the handler
	// verify a signature, so it should be unguessable (for example a hash
	// of the object's namespace, name and a random salt) rather than a
	// plain repository name.
	Name string
	// Provider selects the signature scheme and payload shape.
	Provider Provider
	// Secret is the shared webhook secret (GitHub/Gitea/generic HMAC key,
	// GitLab secret token). A receiver with an empty Secret refuses every
	// request: there is no unauthenticated mode.
	Secret []byte
	// RepoURLs, for ProviderGeneric only, are the repositories a request
	// without a body triggers. When set, a body's "url" must match one of
	// them ([NormalizeURL]); when empty, any URL in the body is accepted.
	RepoURLs []string
}

// Receivers looks up a receiver by its path token. The operator implements
// it from Kubernetes objects; [StaticReceivers] serves fixed configuration.
type Receivers interface {
	// Receiver returns the receiver named name and whether it exists. An
	// error means the lookup itself failed (the request gets a 500).
	Receiver(ctx context.Context, name string) (Receiver, bool, error)
}

// StaticReceivers is a fixed set of receivers keyed by name, for tests and
// for a controller configured from flags and a secret file.
type StaticReceivers map[string]Receiver

// Receiver implements [Receivers].
func (s StaticReceivers) Receiver(_ context.Context, name string) (Receiver, bool, error) {
	r, ok := s[name]
	return r, ok, nil
}

// NewStaticReceivers indexes receivers by their Name.
func NewStaticReceivers(rs ...Receiver) StaticReceivers {
	s := make(StaticReceivers, len(rs))
	for _, r := range rs {
		s[r.Name] = r
	}
	return s
}

// Default values of [Options].
const (
	DefaultMaxBodyBytes    int64 = 1 << 20
	DefaultFailureBurst          = 20
	DefaultFailureInterval       = 3 * time.Second
)

// Options configures [NewHandler]. The zero value is ready to use.
type Options struct {
	// MaxBodyBytes caps the request body; larger requests get 413.
	// Zero means DefaultMaxBodyBytes (1 MiB). A push payload lists the
	// pushed commits, so it is a few KB for a typical push to a deployment
	// repository; a push of thousands of commits can exceed the cap, and
	// then waits for the poll like any refused webhook.
	MaxBodyBytes int64
	// Logger receives one line per request outcome. Nil discards. Secrets,
	// tokens and signatures are never logged.
	Logger *slog.Logger
	// FailureBurst is how many failed verifications in a row a receiver
	// answers with 401 before it answers 429 without checking; zero means
	// DefaultFailureBurst, a negative value disables the limit.
	FailureBurst int
	// FailureInterval is how long it takes to earn back one failed
	// attempt; zero means DefaultFailureInterval.
	FailureInterval time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.FailureBurst == 0 {
		o.FailureBurst = DefaultFailureBurst
	}
	if o.FailureInterval <= 0 {
		o.FailureInterval = DefaultFailureInterval
	}
	return o
}
