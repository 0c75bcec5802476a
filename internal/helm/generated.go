package helm

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"sync"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

// generating lists the template functions whose result differs from one
// call to the next for the same arguments. Rendered twice, a chart that
// uses one would never be in sync (Argo CD's known problem), and a
// password generated at install would change at every upgrade. `now` is
// left alone: charts use it for timestamps meant to change.
var generating = []string{
	"randAlphaNum", "randAlpha", "randAscii", "randNumeric", "randBytes", "randInt",
	"uuidv4", "shuffle", "bcrypt", "htpasswd", "encryptAES", "genPrivateKey",
	"genCA", "genCAWithKey", "genSelfSignedCert", "genSelfSignedCertWithKey",
	"genSignedCert", "genSignedCertWithKey",
}

// Generated keeps the values a release's templates generated, so that a
// later render with the same inputs returns the same values. A call is
// known by the function, its arguments and how many identical calls came
// before it in the render (templates render in a fixed order), so a
// changed argument (randAlphaNum 16 → 32) generates afresh, and so does a
// call a chart adds. The values are secrets: the caller stores them as
// such.
type Generated struct {
	mu     sync.Mutex
	prev   map[string]string
	used   map[string]string
	counts map[string]int
}

// NewGenerated starts from what an earlier render kept (nil: nothing).
func NewGenerated(prev map[string]string) *Generated {
	return &Generated{prev: prev, used: map[string]string{}, counts: map[string]int{}}
}

// Kept returns what this render generated or reused, the values to store
// for the next render. Values no call asked for are dropped.
func (g *Generated) Kept() map[string]string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return maps.Clone(g.used)
}

// Changed says whether Kept differs from what NewGenerated was given.
func (g *Generated) Changed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return !maps.Equal(g.prev, g.used)
}

// funcs returns the generating functions, bound to g.
func (g *Generated) funcs() (template.FuncMap, error) {
	all := sprig.TxtFuncMap()
	build := reflect.ValueOf(all["buildCustomCert"])
	out := template.FuncMap{}
	for _, name := range generating {
		f, ok := all[name]
		if !ok {
			return nil, fmt.Errorf("template function %s is not in this Sprig", name)
		}
		out[name] = g.wrap(name, reflect.ValueOf(f), build)
	}
	return out, nil
}

// wrap returns a function of f's type that answers from g when it can
// and calls f otherwise.
func (g *Generated) wrap(name string, f, build reflect.Value) any {
	ft := f.Type()
	return reflect.MakeFunc(ft, func(args []reflect.Value) []reflect.Value {
		key, err := g.callKey(name, args)
		if err == nil {
			if out, ok := g.replay(key, ft, build); ok {
				return out
			}
		}
		out := f.Call(args)
		if err != nil || (len(out) == 2 && !out[1].IsNil()) {
			return out
		}
		if enc, err := json.Marshal(out[0].Interface()); err == nil {
			g.mu.Lock()
			g.used[key] = string(enc)
			g.mu.Unlock()
		}
		return out
	}).Interface()
}

func (g *Generated) callKey(name string, args []reflect.Value) (string, error) {
	in := make([]any, len(args))
	for i, a := range args {
		in[i] = a.Interface()
	}
	enc, err := json.Marshal(in)
	if err != nil {
		return "", err
	}
	call := name + string(enc)
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.counts[call]
	g.counts[call] = n + 1
	return fmt.Sprintf("%s#%d", call, n), nil
}

// replay decodes the kept result of key into f's return values.
func (g *Generated) replay(key string, ft reflect.Type, build reflect.Value) ([]reflect.Value, bool) {
	g.mu.Lock()
	enc, ok := g.prev[key]
	g.mu.Unlock()
	if !ok {
		return nil, false
	}
	rt := ft.Out(0)
	var v reflect.Value
	if rt.Kind() == reflect.Struct {
		// Sprig's certificate type is unexported: rebuild one from the
		// kept PEM with its own buildCustomCert.
		var c struct{ Cert, Key string }
		if json.Unmarshal([]byte(enc), &c) != nil {
			return nil, false
		}
		res := build.Call([]reflect.Value{
			reflect.ValueOf(base64.StdEncoding.EncodeToString([]byte(c.Cert))),
			reflect.ValueOf(base64.StdEncoding.EncodeToString([]byte(c.Key))),
		})
		if !res[1].IsNil() || res[0].Type() != rt {
			return nil, false
		}
		v = res[0]
	} else {
		p := reflect.New(rt)
		if json.Unmarshal([]byte(enc), p.Interface()) != nil {
			return nil, false
		}
		v = p.Elem()
	}
	g.mu.Lock()
	g.used[key] = enc
	g.mu.Unlock()
	out := []reflect.Value{v}
	if ft.NumOut() == 2 {
		out = append(out, reflect.Zero(ft.Out(1)))
	}
	return out, true
}
