package notify

import (
	"errors"
	"fmt"
)

// ErrUnsupported: this build has no Sender for a provider type.
var ErrUnsupported = errors.New("unsupported provider type")

// NewSender builds the Sender of a Provider's type. Each type's
// constructor validates its own configuration; its errors name the field
// or Secret key at fault, never a secret value.
func NewSender(cfg ProviderConfig) (Sender, error) {
	switch cfg.Type {
	case TypeWebhook:
		return NewWebhookSender(cfg)
	// The other types' constructors (NewSMTPSender, NewSlackSender,
	// NewMSTeamsSender, NewDiscordSender, NewGoogleChatSender,
	// NewMattermostSender, NewGitHubSender, NewGitLabSender,
	// NewGiteaSender; each func(ProviderConfig) (Sender, error)) are
	// called here once they are part of the build.
	case TypeSMTP, TypeSlack, TypeMSTeams, TypeDiscord, TypeGoogleChat, TypeMattermost, TypeGitHub, TypeGitLab, TypeGitea:
		return nil, fmt.Errorf("%w: %s is not available in this build", ErrUnsupported, cfg.Type)
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupported, cfg.Type)
}
