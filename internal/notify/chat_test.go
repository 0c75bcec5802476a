package notify

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"
)

// sendTo sends m through a sender of type h built against a new sink
// (with channel set), and returns the decoded payload and its raw size.
func sendTo(t *testing.T, h httpType, channel string, m Message) (map[string]any, int) {
	t.Helper()
	s := newTLSSink(t, nil)
	cfg := h.config(s)
	cfg.Channel = channel
	if err := h.sender(t, cfg).Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	req := s.only(t)
	return req.JSON(t), len(req.Body)
}

func chatType(typ string) httpType {
	for _, h := range httpTypes {
		if h.typ == typ {
			return h
		}
	}
	panic("no type " + typ)
}

func TestSlackPayload(t *testing.T) {
	p, _ := sendTo(t, chatType(TypeSlack), "#deploys", sampleFailedMessage())
	if got := jsonAt(t, p, "channel"); got != "#deploys" {
		t.Errorf("channel %v", got)
	}
	if got := jsonAt(t, p, "text"); got != "[cruise] team-a/web failed: BuildFailed" {
		t.Errorf("text %v", got)
	}
	if got := jsonAt(t, p, "attachments", 0, "color"); got != colorError {
		t.Errorf("color %v, want red", got)
	}
	blocks := jsonAt(t, p, "attachments", 0, "blocks").([]any)
	types := blockTypes(blocks)
	if want := "header section section actions context"; types != want {
		t.Fatalf("blocks %s, want %s", types, want)
	}
	if got := jsonAt(t, blocks, 0, "text", "text"); got != "[cruise] team-a/web failed: BuildFailed" {
		t.Errorf("header %v", got)
	}
	body := jsonAt(t, blocks, 1, "text", "text").(string)
	if !strings.Contains(body, "not found &lt;nil&gt; &amp; @everyone") {
		t.Errorf("body not escaped for mrkdwn: %q", body)
	}
	fields := jsonAt(t, blocks, 2, "fields").([]any)
	var names []string
	for _, f := range fields {
		names = append(names, strings.SplitN(jsonAt(t, f, "text").(string), "\n", 2)[0])
	}
	if got, want := strings.Join(names, " "), "*Revision* *Reason* *Commit* *Objects*"; got != want {
		t.Errorf("fields %s, want %s", got, want)
	}
	if got := jsonAt(t, blocks, 3, "elements", 0, "url"); got != sampleFailedMessage().Event.URL {
		t.Errorf("button url %v", got)
	}
	// Recovered is green.
	p, _ = sendTo(t, chatType(TypeSlack), "", withEvent(sampleFailedMessage(), Recovered))
	if got := jsonAt(t, p, "attachments", 0, "color"); got != colorGood {
		t.Errorf("recovered color %v, want green", got)
	}
	if _, ok := p["channel"]; ok {
		t.Error("channel sent though none is set")
	}
}

func blockTypes(blocks []any) string {
	var types []string
	for _, b := range blocks {
		types = append(types, b.(map[string]any)["type"].(string))
	}
	return strings.Join(types, " ")
}

func TestMattermostPayload(t *testing.T) {
	p, _ := sendTo(t, chatType(TypeMattermost), "#deploys", sampleFailedMessage())
	if got := jsonAt(t, p, "channel"); got != "deploys" {
		t.Errorf("channel %v, want deploys (no #)", got)
	}
	a := jsonAt(t, p, "attachments", 0)
	for key, want := range map[string]any{
		"title":      "[cruise] team-a/web failed: BuildFailed",
		"title_link": sampleFailedMessage().Event.URL,
		"color":      colorError,
		"footer":     "Application/team-a/web · Failed",
		"text":       sampleFailedMessage().Body,
	} {
		if got := jsonAt(t, a, key); got != want {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
	if got := jsonAt(t, a, "fields", 0, "title"); got != "Revision" {
		t.Errorf("first field %v", got)
	}
	if got := jsonAt(t, a, "fields", 3, "value"); got != "Deployment/team-a/web\nService/team-a/web" {
		t.Errorf("objects field %v", got)
	}
}

func TestDiscordPayload(t *testing.T) {
	p, _ := sendTo(t, chatType(TypeDiscord), "", sampleFailedMessage())
	e := jsonAt(t, p, "embeds", 0)
	for key, want := range map[string]any{
		"title":       "[cruise] team-a/web failed: BuildFailed",
		"url":         sampleFailedMessage().Event.URL,
		"color":       float64(0xE01E5A),
		"description": sampleFailedMessage().Body,
		"timestamp":   "2026-12-02T10:00:00Z",
	} {
		if got := jsonAt(t, e, key); got != want {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
	if got := jsonAt(t, e, "fields", 2, "value"); got != "0123456789ab web: two replicas (Ada <ada@example.com>)" {
		t.Errorf("commit field %v", got)
	}
	if got := jsonAt(t, p, "allowed_mentions", "parse"); len(got.([]any)) != 0 {
		t.Errorf("mentions allowed: %v", got)
	}
}

func TestMSTeamsPayload(t *testing.T) {
	p, _ := sendTo(t, chatType(TypeMSTeams), "", sampleFailedMessage())
	if got := jsonAt(t, p, "type"); got != "message" {
		t.Errorf("type %v", got)
	}
	a := jsonAt(t, p, "attachments", 0)
	if got := jsonAt(t, a, "contentType"); got != "application/vnd.microsoft.card.adaptive" {
		t.Errorf("contentType %v", got)
	}
	card := jsonAt(t, a, "content")
	if jsonAt(t, card, "type") != "AdaptiveCard" || jsonAt(t, card, "version") != "1.4" {
		t.Errorf("not an Adaptive Card 1.4: %v", card)
	}
	if got := jsonAt(t, card, "body", 0, "color"); got != "Attention" {
		t.Errorf("title color %v", got)
	}
	if got := jsonAt(t, card, "body", 1, "text"); got != sampleFailedMessage().Body {
		t.Errorf("body %v", got)
	}
	if got := jsonAt(t, card, "body", 2, "facts", 1, "value"); got != "BuildFailed" {
		t.Errorf("reason fact %v", got)
	}
	if got := jsonAt(t, card, "actions", 0, "url"); got != sampleFailedMessage().Event.URL {
		t.Errorf("action url %v", got)
	}
	if _, ok := p["@type"]; ok {
		t.Error("a MessageCard (retired connector format)")
	}
}

func TestGoogleChatPayload(t *testing.T) {
	p, _ := sendTo(t, chatType(TypeGoogleChat), "", sampleFailedMessage())
	card := jsonAt(t, p, "cardsV2", 0, "card")
	if got := jsonAt(t, card, "header", "title"); got != "[cruise] team-a/web failed: BuildFailed" {
		t.Errorf("header %v", got)
	}
	widgets := jsonAt(t, card, "sections", 0, "widgets").([]any)
	if got := jsonAt(t, widgets, 0, "textParagraph", "text").(string); !strings.Contains(got, "build.<br>apps/") ||
		!strings.Contains(got, "&lt;nil&gt; &amp;") {
		t.Errorf("paragraph not escaped HTML with <br>: %q", got)
	}
	if got := jsonAt(t, widgets, 1, "decoratedText", "topLabel"); got != "Revision" {
		t.Errorf("first field %v", got)
	}
	last := widgets[len(widgets)-1]
	if got := jsonAt(t, last, "buttonList", "buttons", 0, "onClick", "openLink", "url"); got != sampleFailedMessage().Event.URL {
		t.Errorf("button %v", got)
	}
	if got := jsonAt(t, p, "cardsV2", 0, "cardId"); got != "cruise-"+sampleFailedMessage().Event.ID {
		t.Errorf("cardId %v", got)
	}
}

// TestChatSizeLimits: a huge body, many objects and a long subject stay
// within each service's documented limits; the body is cut, marked with
// an ellipsis.
func TestChatSizeLimits(t *testing.T) {
	m := sampleFailedMessage()
	m.Subject = strings.Repeat("subject ", 100)
	// Escaped characters and multi-byte runes make the encoded size grow.
	m.Body = strings.Repeat("line <with> & \"quotes\" é 日本 ", 10000)
	for i := range 500 {
		m.Event.Objects = append(m.Event.Objects, "ConfigMap/team-a/a-rather-long-config-map-name-"+strings.Repeat("x", i%50))
	}
	runes := utf8.RuneCountInString
	t.Run("slack", func(t *testing.T) {
		p, size := sendTo(t, chatType(TypeSlack), "", m)
		blocks := jsonAt(t, p, "attachments", 0, "blocks").([]any)
		if n := runes(jsonAt(t, blocks, 0, "text", "text").(string)); n > slackHeaderLimit {
			t.Errorf("header of %d characters", n)
		}
		body := jsonAt(t, blocks, 1, "text", "text").(string)
		if n := runes(body); n > slackSectionLimit || n < slackSectionLimit-10 {
			t.Errorf("section of %d characters, want just under %d", n, slackSectionLimit)
		}
		if !strings.HasSuffix(body, "…") {
			t.Error("cut body not marked")
		}
		for _, f := range jsonAt(t, blocks, 2, "fields").([]any) {
			if n := runes(jsonAt(t, f, "text").(string)); n > slackFieldLimit {
				t.Errorf("field of %d characters", n)
			}
		}
		if size > slackPayloadLimit {
			t.Errorf("payload of %d bytes", size)
		}
	})
	t.Run("discord", func(t *testing.T) {
		p, _ := sendTo(t, chatType(TypeDiscord), "", m)
		e := jsonAt(t, p, "embeds", 0)
		total := runes(jsonAt(t, e, "title").(string)) + runes(jsonAt(t, e, "footer", "text").(string))
		desc := runes(jsonAt(t, e, "description").(string))
		total += desc
		for _, f := range jsonAt(t, e, "fields").([]any) {
			v := runes(jsonAt(t, f, "value").(string))
			if v > discordFieldValueLimit {
				t.Errorf("field of %d characters", v)
			}
			total += runes(jsonAt(t, f, "name").(string)) + v
		}
		if desc != discordDescLimit || total > discordTotalLimit {
			t.Errorf("description %d, embed %d characters; want %d, ≤ %d", desc, total, discordDescLimit, discordTotalLimit)
		}
	})
	t.Run("googlechat", func(t *testing.T) {
		p, size := sendTo(t, chatType(TypeGoogleChat), "", m)
		if size > googleChatPayloadLimit {
			t.Errorf("payload of %d bytes", size)
		}
		text := jsonAt(t, p, "cardsV2", 0, "card", "sections", 0, "widgets", 0, "textParagraph", "text").(string)
		if !strings.HasSuffix(text, "…") || strings.Count(text, "日本") > googleChatBodyLimit/20 {
			t.Errorf("body not cut to %d characters: %d", googleChatBodyLimit, runes(text))
		}
	})
	for _, c := range []struct {
		typ   string
		limit int
	}{
		{TypeMSTeams, teamsPayloadLimit},
		{TypeMattermost, mattermostPayloadLimit},
	} {
		t.Run(c.typ, func(t *testing.T) {
			_, size := sendTo(t, chatType(c.typ), "", m)
			if size > c.limit || size < c.limit*95/100 {
				t.Errorf("payload of %d bytes, want just under %d", size, c.limit)
			}
		})
	}
}

// TestChatDefaults: a message without subject or body still says what
// happened: the title is made from the event, the body is its message.
func TestChatDefaults(t *testing.T) {
	m := sampleFailedMessage()
	m.Subject, m.Body = "", ""
	c := chatMessageOf(m)
	if c.Title != "[cruise] team-a/web Failed" {
		t.Errorf("title %q", c.Title)
	}
	if c.Body != m.Event.Message {
		t.Errorf("body %q", c.Body)
	}
	for typ, want := range map[EventType]string{
		Synced: colorGood, Recovered: colorGood, Failed: colorError, HealthDegraded: colorError,
		DriftReverted: colorWarning, RolledBack: colorWarning, ImageUpdated: colorInfo, Digest: colorInfo,
	} {
		if got := eventColor(withEvent(m, typ).Event); got != want {
			t.Errorf("%s: color %s, want %s", typ, got, want)
		}
	}
}

func TestListObjects(t *testing.T) {
	var objs []string
	for i := range 13 {
		objs = append(objs, "ConfigMap/ns/c"+string(rune('a'+i)))
	}
	got := listObjects(objs)
	if lines := strings.Split(got, "\n"); len(lines) != 11 || lines[10] != "… and 3 more" {
		t.Errorf("listObjects: %q", got)
	}
}
