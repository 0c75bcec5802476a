package notify

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
)

// Templates are an Alert's subject and body templates; either may be nil
// (the default). A nil *Templates renders the defaults.
type Templates struct {
	subject *template.Template
	body    *template.Template
}

// maxRendered bounds what a template may produce; past it the render
// fails (and falls back to the default).
const maxRendered = 64 << 10

// ParseTemplates parses Go text/templates over an Event; "" keeps the
// default. Besides the built-ins they may call:
//
//	short REV       the 12-hex form of a commit SHA or revision ("main@1a2b3c4d5e6f")
//	join SEP LIST   strings.Join
//	lower, upper    strings.ToLower, strings.ToUpper
//	truncate N S    S cut to N bytes, with "…" when cut
//	diffURL EVENT   the diff page of the event's Application ("" without --server-url)
//	rollbackURL EVENT  the history of the event's Application, where rollbacks are made
//	subject EVENT, body EVENT  the default subject and body
func ParseTemplates(subject, body string) (*Templates, error) {
	t := &Templates{}
	var err error
	if subject != "" {
		if t.subject, err = template.New("subject").Option("missingkey=error").Funcs(templateFuncs).Parse(subject); err != nil {
			return nil, fmt.Errorf("%w: template.subject: %v", ErrTemplate, err)
		}
	}
	if body != "" {
		if t.body, err = template.New("body").Option("missingkey=error").Funcs(templateFuncs).Parse(body); err != nil {
			return nil, fmt.Errorf("%w: template.body: %v", ErrTemplate, err)
		}
	}
	return t, nil
}

var templateFuncs = template.FuncMap{
	"short":       ShortRevision,
	"join":        func(sep string, list []string) string { return strings.Join(list, sep) },
	"lower":       strings.ToLower,
	"upper":       strings.ToUpper,
	"truncate":    truncate,
	"diffURL":     DiffURL,
	"rollbackURL": RollbackURL,
	"subject":     DefaultSubject,
	"body":        DefaultBody,
}

// Render makes ev's message. When a template fails, its part falls back
// to the default and the error is returned with the message.
func (t *Templates) Render(ev Event) (Message, error) {
	m := Message{Event: ev, Subject: DefaultSubject(ev), Body: DefaultBody(ev)}
	if t == nil {
		return m, nil
	}
	var errs []error
	if t.subject != nil {
		if s, err := execute(t.subject, ev); err != nil {
			errs = append(errs, err)
		} else {
			m.Subject = strings.Join(strings.Fields(s), " ") // one line
		}
	}
	if t.body != nil {
		if s, err := execute(t.body, ev); err != nil {
			errs = append(errs, err)
		} else {
			m.Body = s
		}
	}
	if len(errs) > 0 {
		return m, fmt.Errorf("%w: %v; the default was sent", ErrTemplate, joinErrors(errs))
	}
	return m, nil
}

func execute(t *template.Template, ev Event) (string, error) {
	var b limitedBuffer
	if err := t.Execute(&b, ev); err != nil {
		return "", fmt.Errorf("template.%s: %v", t.Name(), err)
	}
	return b.String(), nil
}

// limitedBuffer fails writes past maxRendered.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxRendered {
		return 0, fmt.Errorf("output over %d bytes", maxRendered)
	}
	return b.Buffer.Write(p)
}

func joinErrors(errs []error) string {
	s := make([]string, len(errs))
	for i, e := range errs {
		s[i] = e.Error()
	}
	return strings.Join(s, "; ")
}

func truncate(n int, s string) string {
	if n <= 0 || len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !validCut(s, cut) {
		cut--
	}
	return s[:cut] + "…"
}

// validCut reports whether s[:i] ends on a rune boundary.
func validCut(s string, i int) bool { return i == len(s) || s[i]&0xC0 != 0x80 }

// ShortRevision shortens "main@sha1:<40 hex>" to "main@<12 hex>" and a
// bare SHA to 12 hex digits; anything else is returned as is.
func ShortRevision(rev string) string {
	ref, sha, found := strings.Cut(rev, "@sha1:")
	if !found {
		sha, ref = strings.TrimPrefix(rev, "sha1:"), ""
	}
	if len(sha) > 12 {
		sha = sha[:12]
	}
	if ref == "" {
		return sha
	}
	return ref + "@" + sha
}

// ApplicationURL is the page of an Application in `cruise server` at
// base (its --public-url); "" when base is "".
func ApplicationURL(base, namespace, name string) string {
	if base == "" {
		return ""
	}
	return strings.TrimRight(base, "/") + "/apps/" + namespace + "/" + name
}

// DiffURL is the diff page of the event's Application; "" without a URL.
func DiffURL(ev Event) string {
	if ev.URL == "" || ev.Object.Kind != "Application" {
		return ""
	}
	return ev.URL + "/diff"
}

// RollbackURL is the history of the event's Application, whose entries
// offer the rollback; "" without a URL.
func RollbackURL(ev Event) string {
	if ev.URL == "" || ev.Object.Kind != "Application" {
		return ""
	}
	return ev.URL + "#h-history"
}
