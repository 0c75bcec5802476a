package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var staticFS embed.FS

// asset is one embedded static file with its content hash, computed once
// so neither pages nor the handler hash per request.
type asset struct {
	body        []byte
	contentType string
	hash        string // hex, also the ETag and the ?v= of page links
}

// loadAssets reads every file under static/, keyed by its path below it
// ("app.css", "icons/sync.svg").
func loadAssets() (map[string]*asset, error) {
	assets := map[string]*asset{}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		assets[strings.TrimPrefix(p, "static/")] = &asset{
			body:        body,
			contentType: contentType(p),
			hash:        hex.EncodeToString(sum[:8]),
		}
		return nil
	})
	return assets, err
}

// contentType is fixed per extension rather than taken from the host's
// mime tables, which differ between machines and would change what
// browsers accept under nosniff.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	return "application/octet-stream"
}

// Static serves the embedded CSS, JavaScript and SVG icons. Mount it at
// "/static/", with or without http.StripPrefix.
//
// Pages link to assets as /static/NAME?v=HASH. A request whose v matches
// the content is cacheable for a year (immutable), as a new build changes
// the link; any other request must revalidate, against the ETag.
func Static() http.Handler {
	assets, err := loadAssets()
	if err != nil {
		// The files are compiled in; failing to read them is a broken build.
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "web: embedded assets unreadable: "+err.Error(), http.StatusInternalServerError)
		})
	}
	return staticHandler(assets)
}

type staticHandler map[string]*asset

func (h staticHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/static"), "/")
	a, ok := h[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", a.contentType)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("ETag", `"`+a.hash+`"`)
	if r.URL.Query().Get("v") == a.hash {
		hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hdr.Set("Cache-Control", "no-cache")
	}
	// ServeContent answers If-None-Match from the ETag above, and ranges.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}
