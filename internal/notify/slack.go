package notify

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Slack's documented limits (api.slack.com/reference/block-kit/blocks):
// a header's text 150 characters, a section's text 3,000, a section field
// 2,000 and at most 10 fields, a button's text 75 and its URL 3,000.
// Messages of an incoming webhook are cut by Slack past 40,000 characters;
// cruise keeps the whole payload well under that.
const (
	slackHeaderLimit  = 150
	slackSectionLimit = 3000
	slackFieldLimit   = 2000
	slackMaxFields    = 10
	slackURLLimit     = 3000
	slackPayloadLimit = 40000
)

// slackSender posts to a Slack incoming webhook.
type slackSender struct {
	http    *httpSender
	url     string
	display string
	channel string
}

// NewSlackSender builds the sender of a slack Provider: cfg.Address is the
// incoming webhook URL (https://hooks.slack.com/services/…), a secret;
// cfg.Channel, when set, is sent as "channel" (webhooks of current Slack
// apps post to the channel they were made for and ignore it).
func NewSlackSender(cfg ProviderConfig) (Sender, error) {
	u, err := parseWebhookURL(TypeSlack, cfg.Address)
	if err != nil {
		return nil, err
	}
	h, err := newHTTPSender(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", TypeSlack, err)
	}
	return &slackSender{http: h, url: u.String(), display: redactURL(cfg.Address), channel: cfg.Channel}, nil
}

// Send posts one message: the subject as the notification text, and an
// attachment coloured by outcome holding Block Kit blocks (header, body,
// fields, a button to cruise server, a context line).
func (s *slackSender) Send(ctx context.Context, m Message) error {
	c := chatMessageOf(m)
	payload, err := fitJSON(slackPayloadLimit, c.Body, slackSectionLimit, func(body string) any {
		return s.payload(c, body)
	})
	if err != nil {
		return fmt.Errorf("slack: %w", err)
	}
	_, err = s.http.do(ctx, httpRequest{method: http.MethodPost, url: s.url, display: s.display, body: payload})
	return err
}

type slackPayload struct {
	Channel     string            `json:"channel,omitempty"`
	Text        string            `json:"text"`
	Attachments []slackAttachment `json:"attachments"`
}

type slackAttachment struct {
	Color    string       `json:"color"`
	Fallback string       `json:"fallback"`
	Blocks   []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type     string         `json:"type"`
	Text     *slackText     `json:"text,omitempty"`
	Fields   []slackText    `json:"fields,omitempty"`
	Elements []slackElement `json:"elements,omitempty"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// slackElement is a button (in an actions block) or a text (in a context
// block).
type slackElement struct {
	Type string `json:"type"`
	Text any    `json:"text,omitempty"`
	URL  string `json:"url,omitempty"`
}

func (s *slackSender) payload(c chatMessage, body string) slackPayload {
	blocks := []slackBlock{{Type: "header", Text: &slackText{Type: "plain_text", Text: cutRunes(c.Title, slackHeaderLimit)}}}
	if body != "" {
		blocks = append(blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: slackMrkdwn(body, slackSectionLimit)}})
	}
	if len(c.Fields) > 0 {
		var fields []slackText
		for _, f := range c.Fields[:min(len(c.Fields), slackMaxFields)] {
			fields = append(fields, slackText{Type: "mrkdwn", Text: slackMrkdwn("*"+f.Name+"*\n"+f.Value, slackFieldLimit)})
		}
		blocks = append(blocks, slackBlock{Type: "section", Fields: fields})
	}
	if c.Link != "" && len(c.Link) <= slackURLLimit {
		blocks = append(blocks, slackBlock{Type: "actions", Elements: []slackElement{{
			Type: "button",
			Text: slackText{Type: "plain_text", Text: "Open in cruise"},
			URL:  c.Link,
		}}})
	}
	blocks = append(blocks, slackBlock{Type: "context", Elements: []slackElement{{
		Type: "mrkdwn", Text: slackMrkdwn(c.Footer, slackSectionLimit),
	}}})
	return slackPayload{
		Channel: s.channel,
		Text:    slackMrkdwn(c.Title, slackSectionLimit),
		Attachments: []slackAttachment{{
			Color:    c.Color,
			Fallback: cutRunes(c.Title, slackSectionLimit),
			Blocks:   blocks,
		}},
	}
}

// slackMrkdwn escapes the three characters mrkdwn gives meaning to
// (api.slack.com/reference/surfaces/formatting#escaping), so that an
// error quoting "<nil>" or "<!channel>" becomes neither a link nor a
// mention, then cuts the result to limit runes without splitting an
// entity.
func slackMrkdwn(s string, limit int) string {
	e := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
	if utf8.RuneCountInString(e) <= limit {
		return e
	}
	cut := strings.TrimSuffix(cutRunes(e, limit), "…")
	if amp := strings.LastIndexByte(cut, '&'); amp >= 0 && !strings.Contains(cut[amp:], ";") {
		cut = cut[:amp]
	}
	return cut + "…"
}
