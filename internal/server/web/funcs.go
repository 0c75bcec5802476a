package web

import (
	"cmp"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/cruisegitops/cruise/internal/server/apiv1"
	"github.com/cruisegitops/cruise/internal/source"
)

// funcs are the templates' helpers. They return plain strings, never
// template.HTML, so everything they produce is still escaped for the
// context it lands in.
func funcs(assets map[string]*asset) template.FuncMap {
	return template.FuncMap{
		"asset": func(name string) string {
			// A missing asset is a template typo; a link without ?v= still works.
			if a, ok := assets[name]; ok {
				return "/static/" + name + "?v=" + a.hash
			}
			return "/static/" + name
		},
		"appURL":       appURL,
		"cls":          cls,
		"short":        short,
		"readyText":    readyText,
		"glyph":        glyph,
		"source":       sourceName,
		"chips":        chips,
		"filtered":     func(f Filters) bool { return f != Filters{} },
		"syncValues":   func() []string { return []string{apiv1.SyncSynced, apiv1.SyncOutOfSync, apiv1.SyncUnknown} },
		"healthValues": healthValues,
		"flatten":      flatten,
		"appRows":      appRows,
		"patchLines":   patchLines,
		"historyRows":  historyRows,
		"stamp":        stampAt,
		"spans":        spans,
		"graph":        drawGraph,
		"statusText":   http.StatusText,
		"inNamespace":  inNamespace,
	}
}

// inNamespace shortens "namespace/name" to name when it is in ns, the
// page's namespace.
func inNamespace(ns, key string) string {
	if name, ok := strings.CutPrefix(key, ns+"/"); ok {
		return name
	}
	return key
}

func appURL(namespace, name string) string {
	return "/apps/" + url.PathEscape(namespace) + "/" + url.PathEscape(name)
}

// cls turns a status value into a CSS class suffix: lower-case letters
// only, so a strange value cannot break out of the class list. app.js
// derives classes the same way when it updates rows in place.
func cls(v string) string {
	if v == "" {
		return "none"
	}
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'a' <= c && c <= 'z':
			b = append(b, c)
		case 'A' <= c && c <= 'Z':
			b = append(b, c+'a'-'A')
		}
	}
	return string(b)
}

// short is the 7-digit commit of a revision ("<ref>@sha1:<commit>") or of
// a bare commit, as git shows it; anything else is shown whole.
func short(rev string) string {
	c := source.RevisionCommit(rev)
	if c == "" && isHex(rev) {
		c = rev
	}
	if c == "" {
		return rev
	}
	if len(c) > 7 {
		return c[:7]
	}
	return c
}

func isHex(s string) bool {
	if len(s) < 7 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// commitOf is what a rollback names: the commit, which the server accepts
// in full or as a prefix.
func commitOf(h apiv1.HistoryEntry) string {
	if h.Commit != "" {
		return h.Commit
	}
	return source.RevisionCommit(h.Revision)
}

func readyText(v string) string {
	switch v {
	case "True":
		return "Ready"
	case "False":
		return "Not ready"
	case "":
		return "—"
	}
	return v
}

// glyph marks a graph node's health by shape as well as colour.
func glyph(health string) string {
	switch health {
	case apiv1.HealthHealthy:
		return "✓"
	case apiv1.HealthDegraded:
		return "✗"
	case apiv1.HealthProgressing:
		return "↻"
	case apiv1.HealthSuspended:
		return "‖"
	case apiv1.HealthMissing:
		return "∅"
	}
	return "?"
}

// sourceName omits the GitRepository's namespace when it is the
// application's own, the usual case.
func sourceName(app apiv1.Application) string {
	if c := app.Chart; c != nil && c.RepoURL != "" {
		return c.RepoURL + " " + c.Name
	}
	if app.Source.Namespace != "" && app.Source.Namespace != app.Namespace {
		return app.Source.Namespace + "/" + app.Source.Name
	}
	return app.Source.Name
}

func healthValues() []string {
	return []string{apiv1.HealthHealthy, apiv1.HealthProgressing, apiv1.HealthDegraded,
		apiv1.HealthSuspended, apiv1.HealthMissing, apiv1.HealthUnknown}
}

// chip is one summary count at the top of the overview; URL toggles its
// filter, and is empty for counts no filter selects.
type chip struct {
	Label, Class, URL string
	N                 int
	On                bool
}

// chips orders the counts as people scan them: sync, then health from
// good to bad. "Unknown" is both a sync and a health value; it filters by
// health, where it is the common case (nothing reports health yet).
func chips(p *OverviewPage) []chip {
	f := p.Filters
	all := f
	all.Sync, all.Health = "", ""
	out := []chip{{Label: "All", Class: "all", URL: filterURL(all), N: p.Total, On: f.Sync == "" && f.Health == ""}}
	seen := map[string]bool{}
	add := func(value, key string) {
		n, ok := p.Counts[value]
		if !ok || seen[value] {
			return
		}
		seen[value] = true
		c := chip{Label: value, Class: cls(value), N: n}
		next := f
		switch key {
		case "sync":
			c.On = f.Sync == value
			next.Sync = value
			if c.On {
				next.Sync = ""
			}
		case "health":
			c.On = f.Health == value
			next.Health = value
			if c.On {
				next.Health = ""
			}
		}
		c.URL = filterURL(next)
		out = append(out, c)
	}
	add(apiv1.SyncSynced, "sync")
	add(apiv1.SyncOutOfSync, "sync")
	for _, h := range healthValues() {
		add(h, "health")
	}
	var rest []string
	for k := range p.Counts {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		out = append(out, chip{Label: k, Class: cls(k), N: p.Counts[k]})
	}
	return out
}

// filterURL links to the overview with f; paging restarts, as the old
// continue token belongs to other filters.
func filterURL(f Filters) string {
	q := url.Values{}
	for _, kv := range [][2]string{{"namespace", f.Namespace}, {"sync", f.Sync}, {"health", f.Health}, {"q", f.Q}} {
		if kv[1] != "" {
			q.Set(kv[0], kv[1])
		}
	}
	if len(q) == 0 {
		return "/"
	}
	return "/?" + q.Encode()
}

// appRow is an application in the overview, prepared like row: the
// overview may list thousands, and each function call or nested template
// in a row is paid per row.
type appRow struct {
	Key, URL, Name, Namespace, Source string
	Sync, SyncClass                   string
	Health, HealthClass               string
	ReadyText, ReadyClass             string
	Message                           []span
	Revision, Short                   string
	ResourceCount                     int
	Suspended                         bool
}

func appRows(apps []apiv1.Application) []appRow {
	out := make([]appRow, len(apps))
	for i := range apps {
		a := &apps[i]
		out[i] = appRow{
			Key: a.Namespace + "/" + a.Name, URL: appURL(a.Namespace, a.Name),
			Name: a.Name, Namespace: a.Namespace, Source: sourceName(*a),
			Sync: cmp.Or(a.Sync, "—"), SyncClass: "b-" + cls(a.Sync),
			Health: cmp.Or(a.Health, "—"), HealthClass: "b-" + cls(a.Health),
			ReadyText: readyText(a.Ready), ReadyClass: "r-" + cls(a.Ready), Message: spans(a.Message),
			Revision: a.Revision, Short: short(a.Revision),
			ResourceCount: a.ResourceCount, Suspended: a.Suspended,
		}
	}
	return out
}

// row is a resource in the table, with its classes worked out here: a
// template action costs a reflective call per function and escaper, which
// adds up over thousands of rows.
type row struct {
	Kind, Namespace, Name, Message string
	Sync, Health                   string
	SyncClass, HealthClass         string
	Class                          string // indentation by depth, "" at the top
}

// flatten lists the tree depth-first, the order of the graph, so a
// resource's children follow it.
func flatten(rs []apiv1.Resource) []row {
	out := make([]row, 0, countResources(rs))
	var walk func([]apiv1.Resource, int)
	walk = func(rs []apiv1.Resource, depth int) {
		for i := range rs {
			r := &rs[i]
			out = append(out, row{
				Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, Message: r.Message,
				Sync: r.Sync, Health: r.Health,
				SyncClass: "b-" + cls(r.Sync), HealthClass: "b-" + cls(r.Health),
				Class: depthClass(depth),
			})
			walk(r.Children, depth+1)
		}
	}
	walk(rs, 0)
	return out
}

// depthClass indents a row; app.css has rules down to d4.
func depthClass(depth int) string {
	switch {
	case depth <= 0:
		return ""
	case depth >= 4:
		return "d4"
	}
	return "d" + strconv.Itoa(depth)
}

// line is one line of a unified diff with the class that colours it.
type line struct{ Class, Text string }

func patchLines(patch string) []line {
	patch = strings.TrimSuffix(patch, "\n")
	lines := strings.Split(patch, "\n")
	out := make([]line, len(lines))
	for i, l := range lines {
		c := "l-ctx"
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"),
			strings.HasPrefix(l, "diff "), strings.HasPrefix(l, "index "):
			c = "l-file"
		case strings.HasPrefix(l, "@@"):
			c = "l-hunk"
		case strings.HasPrefix(l, "+"):
			c = "l-add"
		case strings.HasPrefix(l, "-"):
			c = "l-del"
		case strings.HasPrefix(l, `\`):
			c = "l-meta"
		}
		out[i] = line{Class: c, Text: l}
	}
	return out
}
