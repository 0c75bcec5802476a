package cli

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cruisegitops/cruise/internal/apply"
)

// screen replays what liveStatus writes the way a terminal shows it, for
// the escape sequences liveStatus uses: cursor up, carriage return, clear
// to the end of the screen. liveStatus sends a carriage return only right
// before a clear, so it is modelled as clearing the line.
func screen(out string) []string {
	lines := []string{""}
	row := 0
	esc := regexp.MustCompile(`^\x1b\[(\d*)([AJ])`)
	for len(out) > 0 {
		if m := esc.FindStringSubmatch(out); m != nil {
			out = out[len(m[0]):]
			switch m[2] {
			case "A":
				n, _ := strconv.Atoi(m[1])
				row = max(row-n, 0)
			case "J":
				lines = append(lines[:row], "")
			}
			continue
		}
		c, size := utf8.DecodeRuneInString(out)
		switch c {
		case '\n':
			row++
			if row == len(lines) {
				lines = append(lines, "")
			}
		case '\r':
			lines[row] = ""
		default:
			lines[row] += string(c)
		}
		out = out[size:]
	}
	return lines[:len(lines)-1] // the cursor's empty last line
}

func TestLiveStatus(t *testing.T) {
	web := apply.ObjRef{Kind: "Deployment", Namespace: "ns", Name: "web"}
	cfg := apply.ObjRef{Kind: "ConfigMap", Namespace: "ns", Name: "cfg"}
	var b bytes.Buffer
	l := newLiveStatus(&b, 200)
	steps := []struct {
		do   func()
		want []string
	}{
		{func() { l.println("Deployment/ns/web created"); l.track(web) }, []string{
			"Deployment/ns/web created",
		}},
		{func() { l.println("ConfigMap/ns/cfg created"); l.track(cfg) }, []string{
			"Deployment/ns/web created",
			"ConfigMap/ns/cfg created",
		}},
		{func() { l.update(apply.Health{Ref: web, Status: apply.InProgress, Message: "Replicas: 0/1"}) }, []string{
			"Deployment/ns/web created",
			"ConfigMap/ns/cfg created",
			"Waiting for 2 of 2 objects to become Current:",
			"  Deployment/ns/web InProgress: Replicas: 0/1",
			"  ConfigMap/ns/cfg Unknown: waiting for the first status",
		}},
		{func() { l.update(apply.Health{Ref: cfg, Status: apply.Current}) }, []string{
			"Deployment/ns/web created",
			"ConfigMap/ns/cfg created",
			"Waiting for 1 of 2 objects to become Current:",
			"  Deployment/ns/web InProgress: Replicas: 0/1",
		}},
		{func() { l.println("a line printed while waiting") }, []string{
			"Deployment/ns/web created",
			"ConfigMap/ns/cfg created",
			"a line printed while waiting",
			"Waiting for 1 of 2 objects to become Current:",
			"  Deployment/ns/web InProgress: Replicas: 0/1",
		}},
		{func() { l.update(apply.Health{Ref: web, Status: apply.InProgress, Message: "Replicas: 1/2"}) }, []string{
			"Deployment/ns/web created",
			"ConfigMap/ns/cfg created",
			"a line printed while waiting",
			"Waiting for 1 of 2 objects to become Current:",
			"  Deployment/ns/web InProgress: Replicas: 1/2",
		}},
		{func() { l.clear() }, []string{
			"Deployment/ns/web created",
			"ConfigMap/ns/cfg created",
			"a line printed while waiting",
		}},
	}
	for i, s := range steps {
		s.do()
		if got := screen(b.String()); strings.Join(got, "\n") != strings.Join(s.want, "\n") {
			t.Fatalf("step %d: screen shows\n%s\nwant\n%s", i, strings.Join(got, "\n"), strings.Join(s.want, "\n"))
		}
	}
}

// Lines wider than the terminal are cut, or they would wrap and the
// cursor-up count would erase the wrong lines.
func TestLiveStatusTruncates(t *testing.T) {
	var b bytes.Buffer
	l := newLiveStatus(&b, 30)
	l.update(apply.Health{Ref: apply.ObjRef{Kind: "Deployment", Namespace: "production", Name: "web"}, Status: apply.InProgress, Message: "Replicas: 0/1"})
	for _, line := range screen(b.String()) {
		if n := len([]rune(line)); n >= 30 {
			t.Errorf("line %q is %d runes wide on a 30-column terminal", line, n)
		}
	}
}

func TestShortRevision(t *testing.T) {
	for in, want := range map[string]string{
		"main@sha1:0123456789abcdef0123456789abcdef01234567": "main@sha1:0123456789ab",
		"sha1:0123456789abcdef0123456789abcdef01234567":      "sha1:0123456789ab",
		"":     "",
		"odd":  "odd",
		"sha1": "sha1",
	} {
		if got := shortRevision(in); got != want {
			t.Errorf("shortRevision(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestByteSizeFlag(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  bool
	}{
		{"1024", 1024, false},
		{"5Mi", 5 << 20, false},
		{"1k", 1000, false},
		{"0", 0, true},
		{"-1", 0, true},
		{"lots", 0, true},
	} {
		var b byteSize
		err := b.Set(tc.in)
		if (err != nil) != tc.err || (err == nil && int64(b) != tc.want) {
			t.Errorf("Set(%q) = %d, %v; want %d, error %v", tc.in, b, err, tc.want, tc.err)
		}
	}
}
