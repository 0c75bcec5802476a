package oauth

import (
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxFormBytes bounds request bodies of every endpoint.
const maxFormBytes = 64 << 10

// params are request parameters known to appear at most once; an empty
// value counts as absent (draft-ietf-oauth-v2-1 section 3.2: "Parameters
// sent without a value MUST be treated as if they were omitted").
type params map[string]string

// parseParams reads parameters from vals, refusing any parameter sent more
// than once (section 3.1 and 3.2: "Request and response parameters
// defined by this specification MUST NOT be included more than once").
func parseParams(vals url.Values) (params, *Error) {
	p := make(params, len(vals))
	for k, v := range vals {
		if len(v) > 1 {
			return nil, invalidRequest("parameter %q is repeated", k)
		}
		if v[0] != "" {
			p[k] = v[0]
		}
	}
	return p, nil
}

// parseBody reads an application/x-www-form-urlencoded POST body, bounded
// in size. Parameters in the query string are refused: credentials and
// codes must not travel in URLs (section 3.2, 7.4).
func parseBody(w http.ResponseWriter, r *http.Request) (params, *Error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, &Error{Code: ErrInvalidRequest, Status: http.StatusMethodNotAllowed, Description: "the endpoint accepts POST only"}
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/x-www-form-urlencoded" {
		return nil, invalidRequest("the body must be application/x-www-form-urlencoded")
	}
	if r.URL.RawQuery != "" {
		return nil, invalidRequest("parameters must be sent in the body, not the query string")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, invalidRequest("unreadable form body")
	}
	return parseParams(r.PostForm)
}

// scopes splits a scope parameter (section 1.4.1: space-delimited,
// case-sensitive), dropping duplicates.
func splitScopes(s string) []string {
	var out []string
	for _, f := range strings.Split(s, " ") {
		if f == "" {
			continue
		}
		dup := false
		for _, o := range out {
			if o == f {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, f)
		}
	}
	return out
}
