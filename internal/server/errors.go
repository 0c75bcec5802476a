package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// apiError is an error with the HTTP status and stable code it is
// answered with.
type apiError struct {
	status int
	code   string
	msg    string
	files  []string
}

func (e *apiError) Error() string { return e.msg }

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// fromKube maps an error of a Kubernetes call to the API's codes. what
// names the object for the message, e.g. "application team-a/web".
func fromKube(err error, what string) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	switch {
	case apierrors.IsNotFound(err):
		return newError(http.StatusNotFound, apiv1.CodeNotFound, "%s not found", what)
	case apierrors.IsForbidden(err):
		// Kubernetes' message names the user, verb and resource: it helps
		// people fix their RBAC and names only what they asked for.
		return newError(http.StatusForbidden, apiv1.CodeForbidden, "%v", err)
	case apierrors.IsUnauthorized(err):
		return newError(http.StatusUnauthorized, apiv1.CodeUnauthenticated, "%s: the cluster refused the impersonated identity", what)
	case apierrors.IsBadRequest(err), apierrors.IsInvalid(err):
		return newError(http.StatusBadRequest, apiv1.CodeBadRequest, "%s: %v", what, err)
	case apierrors.IsConflict(err):
		return newError(http.StatusConflict, apiv1.CodeConflict, "%s: %v", what, err)
	case apierrors.IsTimeout(err), apierrors.IsServerTimeout(err), apierrors.IsServiceUnavailable(err), apierrors.IsTooManyRequests(err):
		return newError(http.StatusServiceUnavailable, apiv1.CodeUnavailable, "%s: %v", what, err)
	}
	return newError(http.StatusInternalServerError, apiv1.CodeInternal, "%s: %v", what, err)
}

// writeError answers with {"error": {...}}.
func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = newError(http.StatusInternalServerError, apiv1.CodeInternal, "%v", err)
	}
	if ae.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="cruise"`)
	}
	writeJSON(w, ae.status, apiv1.ErrorResponse{Error: apiv1.Error{Code: ae.code, Message: ae.msg, Files: ae.files}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v) // the client went away; nothing to do
}
