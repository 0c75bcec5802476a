package notify

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// Mattermost has refused posts whose attachments hold more than 7,900
// characters ("Maximum attachments length is 7900 characters"; a post's
// text is limited to 16,383): cruise keeps the whole encoded payload
// within 7,900 bytes, the attachment's text within 4,000 characters.
const (
	mattermostTitleLimit   = 250
	mattermostBodyLimit    = 4000
	mattermostFieldLimit   = 500
	mattermostPayloadLimit = 7900
)

// mattermostSender posts to a Mattermost incoming webhook, whose format is
// Slack's legacy one (text and attachments; Mattermost has no blocks).
type mattermostSender struct {
	http    *httpSender
	url     string
	display string
	channel string
}

// NewMattermostSender builds the sender of a mattermost Provider:
// cfg.Address is the incoming webhook URL (https://mm.example.com/hooks/…),
// a secret; cfg.Channel, when set, overrides the webhook's channel (a
// channel name such as "town-square", a leading "#" is dropped, or
// "@user"), which the webhook must be allowed to do.
func NewMattermostSender(cfg ProviderConfig) (Sender, error) {
	u, err := parseWebhookURL(TypeMattermost, cfg.Address)
	if err != nil {
		return nil, err
	}
	h, err := newHTTPSender(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", TypeMattermost, err)
	}
	return &mattermostSender{
		http:    h,
		url:     u.String(),
		display: redactURL(cfg.Address),
		channel: strings.TrimPrefix(cfg.Channel, "#"),
	}, nil
}

// Send posts one message: an attachment coloured by outcome, titled with
// the subject and linking to cruise server, with the body as its text and
// the revision, reason, commit and objects as fields.
func (s *mattermostSender) Send(ctx context.Context, m Message) error {
	c := chatMessageOf(m)
	payload, err := fitJSON(mattermostPayloadLimit, c.Body, mattermostBodyLimit, func(body string) any {
		return s.payload(c, body)
	})
	if err != nil {
		return fmt.Errorf("mattermost: %w", err)
	}
	_, err = s.http.do(ctx, httpRequest{method: http.MethodPost, url: s.url, display: s.display, body: payload})
	return err
}

type mattermostPayload struct {
	Channel     string                 `json:"channel,omitempty"`
	Text        string                 `json:"text,omitempty"`
	Attachments []mattermostAttachment `json:"attachments"`
}

type mattermostAttachment struct {
	Fallback  string            `json:"fallback"`
	Color     string            `json:"color"`
	Title     string            `json:"title"`
	TitleLink string            `json:"title_link,omitempty"`
	Text      string            `json:"text,omitempty"`
	Fields    []mattermostField `json:"fields,omitempty"`
	Footer    string            `json:"footer,omitempty"`
}

type mattermostField struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short"`
}

func (s *mattermostSender) payload(c chatMessage, body string) mattermostPayload {
	title := cutRunes(c.Title, mattermostTitleLimit)
	a := mattermostAttachment{
		Fallback:  title,
		Color:     c.Color,
		Title:     title,
		TitleLink: c.Link,
		Text:      body,
		Footer:    cutRunes(c.Footer, mattermostTitleLimit),
	}
	for _, f := range c.Fields {
		a.Fields = append(a.Fields, mattermostField{Title: f.Name, Value: cutRunes(f.Value, mattermostFieldLimit), Short: f.Short})
	}
	return mattermostPayload{Channel: s.channel, Attachments: []mattermostAttachment{a}}
}
