package notify

import "time"

// Provider types, as Provider.spec.type names them.
const (
	TypeSMTP       = "smtp"
	TypeWebhook    = "webhook"
	TypeSlack      = "slack"
	TypeMSTeams    = "msteams"
	TypeDiscord    = "discord"
	TypeGoogleChat = "googlechat"
	TypeMattermost = "mattermost"
	TypeGitHub     = "github"
	TypeGitLab     = "gitlab"
	TypeGitea      = "gitea"
)

// SMTP TLS modes.
const (
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
	TLSNone     = "none"
)

// ProviderConfig is a Provider with its Secret's values resolved: what a
// Sender is built from. Its String redacts the secrets.
type ProviderConfig struct {
	Type string
	// Address: host:port for smtp; a URL for webhook and chat types (the
	// Secret's "address" wins, since chat webhook URLs are secrets); the
	// API base URL for git hosts.
	Address string
	// SMTP settings, type smtp only.
	From    string
	To      []string
	TLSMode string
	// Channel for chat types, optional.
	Channel string
	// From the Secret.
	Username string
	Password string
	Token    string
	HMACKey  []byte
	CA       []byte
	// Timeout bounds one attempt.
	Timeout time.Duration
}

// String shows the type and the address only.
func (c ProviderConfig) String() string { return c.Type + " " + redactURL(c.Address) }
