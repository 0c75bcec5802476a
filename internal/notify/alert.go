package notify

import (
	"errors"
	"fmt"
	"path"
	"regexp"
)

// Ref names a namespaced object (an Alert, a Provider).
type Ref struct {
	Namespace string
	Name      string
}

func (r Ref) String() string { return r.Namespace + "/" + r.Name }

// Source selects the objects whose events an Alert sends.
type Source struct {
	Kind string
	// Name is a path.Match glob; empty selects every name.
	Name string
	// MatchLabels must all be on the object.
	MatchLabels map[string]string
}

// AlertSpec is an Alert as the controller reads it.
type AlertSpec struct {
	Ref Ref
	// Provider names a Provider in the Alert's namespace.
	Provider  string
	Severity  Severity
	Sources   []Source
	Inclusion []string
	Exclusion []string
	// Subject and Body are optional Go templates over the Event.
	Subject string
	Body    string
	Suspend bool
}

// Alert is a compiled AlertSpec: what the Dispatcher routes with.
type Alert struct {
	spec      AlertSpec
	include   []*regexp.Regexp
	exclude   []*regexp.Regexp
	templates *Templates
}

// ErrTemplate marks an error in an Alert's templates or patterns.
var ErrTemplate = errors.New("template error")

// CompileAlert parses an Alert's patterns and templates. An error names
// the field at fault and wraps ErrTemplate. A pattern or glob that does not
// parse leaves no Alert (nil): it cannot tell what to leave out. A
// template that does not parse leaves an Alert that sends the default
// messages, with the error.
func CompileAlert(s AlertSpec) (*Alert, error) {
	if s.Severity == "" {
		s.Severity = SeverityInfo
	}
	if s.Severity != SeverityInfo && s.Severity != SeverityError {
		return nil, fmt.Errorf("%w: severity %q: want info or error", ErrTemplate, s.Severity)
	}
	a := &Alert{spec: s}
	for i, src := range s.Sources {
		if _, err := path.Match(src.Name, ""); err != nil {
			return nil, fmt.Errorf("%w: eventSources[%d].name %q: %v", ErrTemplate, i, src.Name, err)
		}
	}
	var err error
	if a.include, err = compilePatterns("inclusionList", s.Inclusion); err != nil {
		return nil, err
	}
	if a.exclude, err = compilePatterns("exclusionList", s.Exclusion); err != nil {
		return nil, err
	}
	a.templates, err = ParseTemplates(s.Subject, s.Body)
	if err != nil {
		a.templates = nil
		return a, err
	}
	return a, nil
}

func compilePatterns(field string, patterns []string) ([]*regexp.Regexp, error) {
	out := make([]*regexp.Regexp, 0, len(patterns))
	for i, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("%w: %s[%d]: %v", ErrTemplate, field, i, err)
		}
		out = append(out, re)
	}
	return out, nil
}

// Ref is the Alert's namespace and name.
func (a *Alert) Ref() Ref { return a.spec.Ref }

// ProviderRef is the Provider the Alert sends to.
func (a *Alert) ProviderRef() Ref { return Ref{Namespace: a.spec.Ref.Namespace, Name: a.spec.Provider} }

// Selects reports whether the Alert sends ev: ev is about an object of the
// Alert's namespace that a source selects, its severity is one the Alert
// wants, and its message passes the inclusion and exclusion lists. A
// suspended Alert selects nothing.
func (a *Alert) Selects(ev Event) bool {
	if a.spec.Suspend || ev.Object.Namespace != a.spec.Ref.Namespace {
		return false
	}
	if a.spec.Severity == SeverityError && ev.Severity != SeverityError {
		return false
	}
	selected := false
	for _, s := range a.spec.Sources {
		if s.selects(ev) {
			selected = true
			break
		}
	}
	return selected && a.passes(ev.Message)
}

func (s Source) selects(ev Event) bool {
	if s.Kind != ev.Object.Kind {
		return false
	}
	if s.Name != "" && s.Name != "*" {
		if ok, _ := path.Match(s.Name, ev.Object.Name); !ok {
			return false
		}
	}
	for k, v := range s.MatchLabels {
		if got, ok := ev.Labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func (a *Alert) passes(msg string) bool {
	for _, re := range a.exclude {
		if re.MatchString(msg) {
			return false
		}
	}
	if len(a.include) == 0 {
		return true
	}
	for _, re := range a.include {
		if re.MatchString(msg) {
			return true
		}
	}
	return false
}

// Render makes the message of ev with the Alert's templates; on a render
// error it returns the default message and the error.
func (a *Alert) Render(ev Event) (Message, error) {
	return a.templates.Render(ev)
}
