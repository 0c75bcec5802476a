package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"
)

// handler serves POST /hook/{name}; see the package documentation for the
// request flow and the status codes.
type handler struct {
	receivers Receivers
	trigger   Trigger
	maxBody   int64
	log       *slog.Logger
	failures  *failureLimiter // nil: no limit
	mux       *http.ServeMux
}

// NewHandler returns the webhook endpoint: it serves POST /hook/{name},
// verifies the request with receiver name's secret and calls t for each
// push. Mount it at the server root, or strip a prefix before it.
func NewHandler(rs Receivers, t Trigger, opts Options) http.Handler {
	return newHandler(rs, t, opts, time.Now)
}

// newHandler is NewHandler with the failure limiter's clock injected.
func newHandler(rs Receivers, t Trigger, opts Options, now func() time.Time) *handler {
	opts = opts.withDefaults()
	h := &handler{
		receivers: rs,
		trigger:   t,
		maxBody:   opts.MaxBodyBytes,
		log:       opts.Logger,
		failures:  newFailureLimiter(opts.FailureBurst, opts.FailureInterval, now),
		mux:       http.NewServeMux(),
	}
	h.mux.HandleFunc("/hook/{name}", h.serveHook)
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mux.ServeHTTP(w, r)
}

// serveHook authenticates a request: method, receiver lookup, failure
// budget, body, signature. Each phase that ends the request writes the
// response itself; a verified request goes on to dispatch.
func (h *handler) serveHook(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	ctx := r.Context()
	name := r.PathValue("name")
	rcv, ok, err := h.receivers.Receiver(ctx, name)
	if err != nil {
		h.log.ErrorContext(ctx, "webhook receiver lookup failed", "receiver", name, "error", err)
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	if !ok {
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	rcv.Name = name
	log := h.log.With("receiver", name, "provider", string(rcv.Provider))
	p, ok := providerFor(rcv.Provider)
	if !ok {
		log.ErrorContext(ctx, "webhook receiver has an unknown provider")
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	if allowed, wait := h.failures.allow(name); !allowed {
		log.WarnContext(ctx, "webhook request throttled after failed verifications", "remote", r.RemoteAddr)
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		writeError(w, http.StatusTooManyRequests, "too many failed attempts")
		return
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			log.WarnContext(ctx, "webhook body too large", "limit", h.maxBody, "remote", r.RemoteAddr)
			writeError(w, http.StatusRequestEntityTooLarge, "body too large")
			return
		}
		log.WarnContext(ctx, "webhook body unreadable", "error", err, "remote", r.RemoteAddr)
		writeError(w, http.StatusBadRequest, "body unreadable")
		return
	}

	if err := p.verify(rcv.Secret, r.Header, body); err != nil {
		h.failures.fail(name)
		// err names the header and the reason, never a value.
		log.WarnContext(ctx, "webhook verification failed", "reason", err.Error(), "remote", r.RemoteAddr)
		writeError(w, http.StatusUnauthorized, "unauthorized")
		return
	}
	h.dispatch(w, r, log, rcv, p, body)
}

// dispatch acts on a verified request: event, payload, trigger.
func (h *handler) dispatch(w http.ResponseWriter, r *http.Request, log *slog.Logger, rcv Receiver, p provider, body []byte) {
	ctx := r.Context()
	ev := p.event(r.Header, body)
	log = log.With("event", ev.name, "delivery", ev.delivery)
	switch ev.kind {
	case eventPing:
		log.InfoContext(ctx, "webhook ping")
		writeJSON(w, http.StatusOK, Response{Repositories: []string{}, Message: "ping received"})
		return
	case eventIgnored:
		log.DebugContext(ctx, "webhook event ignored")
		w.WriteHeader(http.StatusNoContent)
		return
	}

	pu, err := p.parse(rcv, r.Header, body)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, errURLNotAllowed) {
			status = http.StatusForbidden
		}
		log.WarnContext(ctx, "webhook payload rejected", "error", err)
		writeError(w, status, payloadMessage(err))
		return
	}

	event := Event{Receiver: rcv.Name, Provider: rcv.Provider, RepoURLs: pu.urls, Ref: pu.ref, Delivery: ev.delivery}
	repos, err := h.trigger.Trigger(ctx, event)
	if err != nil {
		log.ErrorContext(ctx, "webhook trigger failed", "repositories", repos,
			"error", fmt.Errorf("receiver %s: %w", rcv.Name, err))
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	if len(repos) == 0 {
		// 200, not an error status: an organization-wide hook legitimately
		// names repositories this cluster does not deploy from, and GitLab
		// disables a hook that keeps failing. The message shows in the
		// host's delivery log, for the case where a URL is spelled in a way
		// that matches nothing.
		log.InfoContext(ctx, "webhook push matches no GitRepository", "urls", pu.urls, "ref", pu.ref)
		writeJSON(w, http.StatusOK, Response{Repositories: []string{}, Message: "no GitRepository matches " + pu.urls[0]})
		return
	}
	log.InfoContext(ctx, "webhook triggered", "urls", pu.urls, "ref", pu.ref, "repositories", repos)
	writeJSON(w, http.StatusAccepted, Response{Triggered: len(repos), Repositories: repos})
}

// Response is the JSON body of every answer to a verified request that is
// not an error (errors are {"error": "<fixed text>"}):
//
//	202 {"triggered":2,"repositories":["apps/env","team/env"]}
//	200 {"triggered":0,"repositories":[],"message":"no GitRepository matches https://git.example.net/team/config.git"}
//	200 {"triggered":0,"repositories":[],"message":"ping received"}
type Response struct {
	// Triggered is how many GitRepositories were asked to fetch.
	Triggered int `json:"triggered"`
	// Repositories are their "namespace/name", sorted; never null.
	Repositories []string `json:"repositories"`
	// Message says why nothing was triggered.
	Message string `json:"message,omitempty"`
}

// payloadMessage is the client-facing text for a payload error: fixed
// strings, so that nothing from the parser is echoed back.
func payloadMessage(err error) string {
	switch {
	case errors.Is(err, errURLNotAllowed):
		return errURLNotAllowed.Error()
	case errors.Is(err, errNoRepository):
		return errNoRepository.Error()
	default:
		return errMalformed.Error()
	}
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, struct {
		Error string `json:"error"`
	}{msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may be gone; nothing to do
}
