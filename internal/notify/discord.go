package notify

import (
	"context"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"
)

// Discord's documented embed limits (discord.com/developers/docs/resources/
// message#embed-object-embed-limits): title 256 characters, description
// 4,096, at most 25 fields of name 256 and value 1,024, footer 2,048, and
// 6,000 characters across all of them.
const (
	discordTitleLimit      = 256
	discordDescLimit       = 4096
	discordFieldNameLimit  = 256
	discordFieldValueLimit = 1024
	discordMaxFields       = 25
	discordFooterLimit     = 2048
	discordTotalLimit      = 6000
)

// discordSender posts to a Discord channel webhook.
type discordSender struct {
	http    *httpSender
	url     string
	display string
}

// NewDiscordSender builds the sender of a discord Provider: cfg.Address is
// the channel webhook URL (https://discord.com/api/webhooks/<id>/<token>),
// a secret. Discord webhooks post to their own channel; cfg.Channel is not
// used.
func NewDiscordSender(cfg ProviderConfig) (Sender, error) {
	u, err := parseWebhookURL(TypeDiscord, cfg.Address)
	if err != nil {
		return nil, err
	}
	h, err := newHTTPSender(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", TypeDiscord, err)
	}
	return &discordSender{http: h, url: u.String(), display: redactURL(cfg.Address)}, nil
}

// Send posts one embed coloured by outcome: the subject as its title
// (linking to cruise server), the body as its description, the revision,
// reason, commit and objects as fields. Mentions are disabled, so a body
// quoting "@everyone" pings nobody.
func (s *discordSender) Send(ctx context.Context, m Message) error {
	c := chatMessageOf(m)
	e := discordEmbed{
		Title:  cutRunes(c.Title, discordTitleLimit),
		URL:    c.Link,
		Color:  colorInt(c.Color),
		Footer: &discordFooter{Text: cutRunes(c.Footer, discordFooterLimit)},
	}
	if !m.Event.Time.IsZero() {
		e.Timestamp = m.Event.Time.UTC().Format(time.RFC3339)
	}
	for _, f := range c.Fields[:min(len(c.Fields), discordMaxFields)] {
		e.Fields = append(e.Fields, discordField{
			Name:   cutRunes(f.Name, discordFieldNameLimit),
			Value:  cutRunes(f.Value, discordFieldValueLimit),
			Inline: f.Short,
		})
	}
	// What is left of the 6,000 characters goes to the description.
	used := utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Footer.Text)
	for _, f := range e.Fields {
		used += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
	}
	e.Description = cutRunes(c.Body, max(0, min(discordDescLimit, discordTotalLimit-used)))
	payload := discordPayload{
		Username:        "cruise",
		Embeds:          []discordEmbed{e},
		AllowedMentions: discordAllowedMentions{Parse: []string{}},
	}
	_, err := s.http.do(ctx, httpRequest{method: http.MethodPost, url: s.url, display: s.display, body: payload})
	return err
}

type discordPayload struct {
	Username        string                 `json:"username,omitempty"`
	Content         string                 `json:"content,omitempty"`
	Embeds          []discordEmbed         `json:"embeds"`
	AllowedMentions discordAllowedMentions `json:"allowed_mentions"`
}

type discordAllowedMentions struct {
	Parse []string `json:"parse"`
}

type discordEmbed struct {
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	URL         string         `json:"url,omitempty"`
	Color       int            `json:"color"`
	Timestamp   string         `json:"timestamp,omitempty"`
	Fields      []discordField `json:"fields,omitempty"`
	Footer      *discordFooter `json:"footer,omitempty"`
}

type discordField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline"`
}

type discordFooter struct {
	Text string `json:"text"`
}
