package notify

import (
	"errors"
	"fmt"
)

// ErrUnsupported: there is no Sender for a provider type.
var ErrUnsupported = errors.New("unsupported provider type")

// NewSender builds the Sender of a Provider's type. Each type's
// constructor validates its own configuration; its errors name the field
// or Secret key at fault, never a secret value.
func NewSender(cfg ProviderConfig) (Sender, error) {
	var newSender func(ProviderConfig) (Sender, error)
	switch cfg.Type {
	case TypeWebhook:
		newSender = NewWebhookSender
	case TypeSMTP:
		newSender = NewSMTPSender
	case TypeSlack:
		newSender = NewSlackSender
	case TypeMSTeams:
		newSender = NewMSTeamsSender
	case TypeDiscord:
		newSender = NewDiscordSender
	case TypeGoogleChat:
		newSender = NewGoogleChatSender
	case TypeMattermost:
		newSender = NewMattermostSender
	case TypeGitHub:
		newSender = NewGitHubSender
	case TypeGitLab:
		newSender = NewGitLabSender
	case TypeGitea:
		newSender = NewGiteaSender
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupported, cfg.Type)
	}
	return newSender(cfg)
}
