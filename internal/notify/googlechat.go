package notify

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"strings"
)

// Google Chat takes messages up to 32,000 bytes (developers.google.com/
// workspace/chat/create-messages, "message size"); cruise keeps the
// encoded payload within 30,000 bytes and the body within 4,000
// characters.
const (
	googleChatPayloadLimit = 30000
	googleChatBodyLimit    = 4000
	googleChatTitleLimit   = 200
	googleChatFieldLimit   = 1000
)

// googleChatSender posts a card to a Google Chat space's incoming webhook.
type googleChatSender struct {
	http    *httpSender
	url     string
	display string
}

// NewGoogleChatSender builds the sender of a googlechat Provider:
// cfg.Address is the space's incoming webhook URL
// (https://chat.googleapis.com/v1/spaces/…/messages?key=…&token=…), a
// secret. The space is the webhook's; cfg.Channel is not used.
func NewGoogleChatSender(cfg ProviderConfig) (Sender, error) {
	u, err := parseWebhookURL(TypeGoogleChat, cfg.Address)
	if err != nil {
		return nil, err
	}
	h, err := newHTTPSender(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", TypeGoogleChat, err)
	}
	return &googleChatSender{http: h, url: u.String(), display: redactURL(cfg.Address)}, nil
}

// Send posts one message holding one cardsV2 card: the subject as its
// header, the object as subtitle, the body as a paragraph, the revision,
// reason, commit and objects as labelled texts, and an "Open in cruise"
// button. The subject is also the message's text, which is what
// notifications show.
func (s *googleChatSender) Send(ctx context.Context, m Message) error {
	c := chatMessageOf(m)
	payload, err := fitJSON(googleChatPayloadLimit, c.Body, googleChatBodyLimit, func(body string) any {
		return googleChatPayload(c, m.Event.ID, body)
	})
	if err != nil {
		return fmt.Errorf("googlechat: %w", err)
	}
	_, err = s.http.do(ctx, httpRequest{method: http.MethodPost, url: s.url, display: s.display, body: payload})
	return err
}

type googleChatMessage struct {
	Text    string           `json:"text"`
	CardsV2 []googleChatCard `json:"cardsV2"`
}

type googleChatCard struct {
	CardID string             `json:"cardId"`
	Card   googleChatCardBody `json:"card"`
}

type googleChatCardBody struct {
	Header   googleChatHeader    `json:"header"`
	Sections []googleChatSection `json:"sections"`
}

type googleChatHeader struct {
	Title    string `json:"title"`
	Subtitle string `json:"subtitle,omitempty"`
}

type googleChatSection struct {
	Widgets []googleChatWidget `json:"widgets"`
}

// googleChatWidget is one of a paragraph, a labelled text or a button list.
type googleChatWidget struct {
	TextParagraph *googleChatText       `json:"textParagraph,omitempty"`
	DecoratedText *googleChatDecorated  `json:"decoratedText,omitempty"`
	ButtonList    *googleChatButtonList `json:"buttonList,omitempty"`
}

type googleChatText struct {
	Text string `json:"text"`
}

type googleChatDecorated struct {
	TopLabel string `json:"topLabel"`
	Text     string `json:"text"`
	WrapText bool   `json:"wrapText"`
}

type googleChatButtonList struct {
	Buttons []googleChatButton `json:"buttons"`
}

type googleChatButton struct {
	Text    string            `json:"text"`
	OnClick googleChatOnClick `json:"onClick"`
}

type googleChatOnClick struct {
	OpenLink googleChatLink `json:"openLink"`
}

type googleChatLink struct {
	URL string `json:"url"`
}

// googleChatPayload builds the card. Card texts take a subset of HTML, so
// what cruise did not write is escaped; newlines become <br>.
func googleChatPayload(c chatMessage, id, body string) googleChatMessage {
	var widgets []googleChatWidget
	if body != "" {
		widgets = append(widgets, googleChatWidget{TextParagraph: &googleChatText{Text: googleChatHTML(body)}})
	}
	for _, f := range c.Fields {
		widgets = append(widgets, googleChatWidget{DecoratedText: &googleChatDecorated{
			TopLabel: f.Name, Text: googleChatHTML(cutRunes(f.Value, googleChatFieldLimit)), WrapText: true,
		}})
	}
	if c.Link != "" {
		widgets = append(widgets, googleChatWidget{ButtonList: &googleChatButtonList{Buttons: []googleChatButton{{
			Text: "Open in cruise", OnClick: googleChatOnClick{OpenLink: googleChatLink{URL: c.Link}},
		}}}})
	}
	if len(widgets) == 0 {
		// A section needs a widget.
		widgets = append(widgets, googleChatWidget{TextParagraph: &googleChatText{Text: googleChatHTML(c.Footer)}})
	}
	title := cutRunes(c.Title, googleChatTitleLimit)
	cardID := "cruise"
	if id != "" {
		cardID = "cruise-" + cutRunes(id, 64)
	}
	return googleChatMessage{
		Text: title,
		CardsV2: []googleChatCard{{
			CardID: cardID,
			Card: googleChatCardBody{
				Header:   googleChatHeader{Title: title, Subtitle: cutRunes(c.Footer, googleChatTitleLimit)},
				Sections: []googleChatSection{{Widgets: widgets}},
			},
		}},
	}
}

func googleChatHTML(s string) string {
	return strings.ReplaceAll(html.EscapeString(s), "\n", "<br>")
}
