package server

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/cruisegitops/cruise/internal/server/apiv1"
	"github.com/cruisegitops/cruise/oauth/accesstoken"
)

// Identity is the Kubernetes user a request impersonates.
type Identity struct {
	User   string
	Groups []string
	// Email is for commit authorship only; it is not sent to Kubernetes.
	Email string
}

// key identifies the identity in caches.
func (id Identity) key() string { return id.User + "\x00" + strings.Join(id.Groups, "\x00") }

type identityKey struct{}

func withIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// identityFrom returns the request's identity; handlers run only behind
// authenticate, so a missing one is a bug and yields an empty user that
// every Kubernetes call refuses.
func identityFrom(ctx context.Context) Identity {
	id, _ := ctx.Value(identityKey{}).(Identity)
	return id
}

// identityFor maps verified token claims to a Kubernetes identity.
func (s *Server) identityFor(c *accesstoken.Claims) (Identity, *apiError) {
	var user string
	switch s.opts.Auth.UsernameClaim {
	case "sub":
		user = c.Subject
	case "email":
		user = c.Email
	default:
		user = c.Username
	}
	if c.Subject == "" || user == "" {
		return Identity{}, newError(http.StatusUnauthorized, apiv1.CodeUnauthenticated,
			"the access token names no user (claim %s): client-credentials tokens cannot use the API", s.opts.Auth.UsernameClaim)
	}
	user = s.opts.Auth.UsernamePrefix + user
	if strings.HasPrefix(user, "system:") {
		return Identity{}, newError(http.StatusForbidden, apiv1.CodeForbidden, "user %q: system: users cannot be impersonated", user)
	}
	groups := make([]string, 0, len(c.Groups))
	for _, g := range c.Groups {
		g = s.opts.Auth.GroupsPrefix + g
		if g == "" || strings.HasPrefix(g, "system:") {
			continue
		}
		groups = append(groups, g)
	}
	slices.Sort(groups)
	return Identity{User: user, Groups: slices.Compact(groups), Email: c.Email}, nil
}

// tokenInQuery reports whether the URL carries something that looks like
// a token; RFC 9700 section 2.5 (and OAuth 2.1) forbid them there, as
// URLs end up in logs, history and Referer headers.
func tokenInQuery(r *http.Request) bool {
	q := r.URL.Query()
	for _, k := range []string{"access_token", "token", "id_token", "refresh_token"} {
		if q.Has(k) {
			return true
		}
	}
	return false
}

// authenticate resolves the caller from the Authorization header or, for
// the UI's own requests, the session cookie, and refuses the request
// otherwise.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tokenInQuery(r) {
			writeError(w, newError(http.StatusBadRequest, apiv1.CodeTokenInQuery,
				"tokens are accepted only in the Authorization header, never in the URL"))
			return
		}
		var id Identity
		if r.Header.Get("Authorization") != "" {
			c, verr := s.verifier.Authenticate(r)
			if verr != nil {
				writeError(w, newError(http.StatusUnauthorized, apiv1.CodeUnauthenticated, "%s", verr.Description))
				return
			}
			var err *apiError
			if id, err = s.admit(r, c); err != nil {
				writeError(w, err)
				return
			}
		} else {
			sess, err := s.sessions.load(w, r)
			if err == nil {
				id, err = s.admitSession(r, sess)
			}
			if err != nil {
				writeError(w, err)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(withIdentity(r.Context(), id)))
	})
}

// admit maps verified claims to the identity the request runs as, if
// their scopes cover it.
func (s *Server) admit(r *http.Request, c *accesstoken.Claims) (Identity, *apiError) {
	id, err := s.identityFor(c)
	if err == nil {
		err = s.checkScope(r, c)
	}
	return id, err
}

// admitSession is admit for a cookie session: a request that changes
// state must also carry the session's CSRF token.
func (s *Server) admitSession(r *http.Request, sess *session) (Identity, *apiError) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if err := s.checkCSRF(r, sess); err != nil {
			return Identity{}, err
		}
	}
	return s.admit(r, sess.claims)
}

// checkScope refuses a request the token's scopes do not cover: reads
// need ReadScope, everything else WriteScope (RFC 6750 section 3.1's
// insufficient_scope).
func (s *Server) checkScope(r *http.Request, c *accesstoken.Claims) *apiError {
	need := s.opts.Auth.WriteScope
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		need = s.opts.Auth.ReadScope
	}
	if need == "" || c.HasScopes(need) {
		return nil
	}
	return newError(http.StatusForbidden, apiv1.CodeScope, "the access token was not granted the scope %s this request needs", need)
}
