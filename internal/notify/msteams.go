package notify

import (
	"context"
	"fmt"
	"net/http"
)

// Teams takes messages up to about 28 KB (learn.microsoft.com/
// microsoftteams/platform/bots/how-to/format-your-bot-messages, "message
// size limits"); cruise keeps the encoded payload within 27,000 bytes and
// the body within 20,000 characters.
const (
	teamsPayloadLimit = 27000
	teamsBodyLimit    = 20000
	teamsTitleLimit   = 500
	teamsFactLimit    = 1000
	// Teams renders Adaptive Cards up to schema 1.5, and the Workflows
	// "post card" action up to 1.4: 1.4 works in both.
	teamsCardVersion = "1.4"
)

// msteamsSender posts an Adaptive Card to a Microsoft Teams incoming
// webhook made with the Workflows app (Power Automate's "Post to a channel
// when a webhook request is received"): the URL is on *.logic.azure.com
// or *.api.powerplatform.com. The Office 365 connector webhooks
// (*.webhook.office.com) and their MessageCard format are retired; cruise
// does not send MessageCards. (The connectors took Adaptive Cards in the
// same envelope too, so an old connector URL that still answers gets the
// same card.)
type msteamsSender struct {
	http    *httpSender
	url     string
	display string
}

// NewMSTeamsSender builds the sender of an msteams Provider: cfg.Address
// is the Workflows webhook URL, a secret (its "sig" query parameter
// authorises the post). The channel is chosen when the workflow is made;
// cfg.Channel is not used.
func NewMSTeamsSender(cfg ProviderConfig) (Sender, error) {
	u, err := parseWebhookURL(TypeMSTeams, cfg.Address)
	if err != nil {
		return nil, err
	}
	h, err := newHTTPSender(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", TypeMSTeams, err)
	}
	return &msteamsSender{http: h, url: u.String(), display: redactURL(cfg.Address)}, nil
}

// Send posts one message holding one Adaptive Card: the subject as a bold
// title (red for errors), the body, a fact set with the revision, reason,
// commit and objects, a footer naming the object, and an "Open in cruise"
// action.
func (s *msteamsSender) Send(ctx context.Context, m Message) error {
	c := chatMessageOf(m)
	payload, err := fitJSON(teamsPayloadLimit, c.Body, teamsBodyLimit, func(body string) any {
		return teamsPayload(c, body)
	})
	if err != nil {
		return fmt.Errorf("msteams: %w", err)
	}
	_, err = s.http.do(ctx, httpRequest{method: http.MethodPost, url: s.url, display: s.display, body: payload})
	return err
}

type teamsMessage struct {
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

type teamsAttachment struct {
	ContentType string    `json:"contentType"`
	ContentURL  *string   `json:"contentUrl"`
	Content     teamsCard `json:"content"`
}

type teamsCard struct {
	Schema  string         `json:"$schema"`
	Type    string         `json:"type"`
	Version string         `json:"version"`
	Body    []teamsElement `json:"body"`
	Actions []teamsAction  `json:"actions,omitempty"`
	MSTeams teamsWidth     `json:"msteams"`
}

type teamsWidth struct {
	Width string `json:"width"`
}

// teamsElement is a TextBlock or a FactSet.
type teamsElement struct {
	Type     string      `json:"type"`
	Text     string      `json:"text,omitempty"`
	Size     string      `json:"size,omitempty"`
	Weight   string      `json:"weight,omitempty"`
	Color    string      `json:"color,omitempty"`
	IsSubtle bool        `json:"isSubtle,omitempty"`
	Wrap     bool        `json:"wrap,omitempty"`
	Facts    []teamsFact `json:"facts,omitempty"`
}

type teamsFact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

type teamsAction struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

func teamsPayload(c chatMessage, body string) teamsMessage {
	title := teamsElement{Type: "TextBlock", Text: cutRunes(c.Title, teamsTitleLimit), Size: "Large", Weight: "Bolder", Wrap: true}
	switch c.Color {
	case colorError:
		title.Color = "Attention"
	case colorGood:
		title.Color = "Good"
	case colorWarning:
		title.Color = "Warning"
	}
	elements := []teamsElement{title}
	if body != "" {
		elements = append(elements, teamsElement{Type: "TextBlock", Text: body, Wrap: true})
	}
	if len(c.Fields) > 0 {
		facts := teamsElement{Type: "FactSet"}
		for _, f := range c.Fields {
			facts.Facts = append(facts.Facts, teamsFact{Title: f.Name, Value: cutRunes(f.Value, teamsFactLimit)})
		}
		elements = append(elements, facts)
	}
	elements = append(elements, teamsElement{Type: "TextBlock", Text: cutRunes(c.Footer, teamsTitleLimit), Size: "Small", IsSubtle: true, Wrap: true})
	card := teamsCard{
		Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
		Type:    "AdaptiveCard",
		Version: teamsCardVersion,
		Body:    elements,
		MSTeams: teamsWidth{Width: "Full"},
	}
	if c.Link != "" {
		card.Actions = []teamsAction{{Type: "Action.OpenUrl", Title: "Open in cruise", URL: c.Link}}
	}
	return teamsMessage{
		Type: "message",
		Attachments: []teamsAttachment{{
			ContentType: "application/vnd.microsoft.card.adaptive",
			Content:     card,
		}},
	}
}
