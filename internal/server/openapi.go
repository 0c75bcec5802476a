package server

import (
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// The OpenAPI 3.1 document is built at start from the routes below and
// the apiv1 types (by reflection), so it cannot drift from the code.

type route struct {
	method, path, summary string
	body, response        any
	params                []string // query parameters
}

var apiRoutes = []route{
	{method: "get", path: "/authconfig", summary: "What a client needs to log in (no authentication)", response: apiv1.AuthConfig{}},
	{method: "get", path: "/whoami", summary: "The Kubernetes identity requests are made as", response: apiv1.Whoami{}},
	{method: "get", path: "/applications", summary: "Applications the user may read, filtered and paged", response: apiv1.ApplicationList{},
		params: []string{"namespace", "sync", "health", "q", "limit", "continue"}},
	{method: "get", path: "/namespaces/{ns}/applications/{name}", summary: "One application", response: apiv1.Application{}},
	{method: "get", path: "/namespaces/{ns}/applications/{name}/resources", summary: "Its resource tree with health and sync", response: apiv1.ResourceTree{}},
	{method: "get", path: "/namespaces/{ns}/applications/{name}/diff", summary: "What a sync would change now (server-side dry-run as the user)", response: apiv1.Diff{}},
	{method: "get", path: "/namespaces/{ns}/applications/{name}/events", summary: "Its Kubernetes events, newest first", response: apiv1.EventList{}},
	{method: "get", path: "/namespaces/{ns}/applications/{name}/history", summary: "Its syncs, newest first", response: apiv1.History{}},
	{method: "get", path: "/namespaces/{ns}/applications/{name}/images", summary: "Its workloads' container images, the tags ImagePolicies chose for them, newer tags known and holds",
		response: apiv1.ApplicationImages{}},
	{method: "post", path: "/namespaces/{ns}/applications/{name}/sync", summary: "Reconcile now", response: apiv1.ActionResult{}},
	{method: "post", path: "/namespaces/{ns}/applications/{name}/suspend", summary: "Stop reconciling", response: apiv1.ActionResult{}},
	{method: "post", path: "/namespaces/{ns}/applications/{name}/resume", summary: "Reconcile again", response: apiv1.ActionResult{}},
	{method: "post", path: "/namespaces/{ns}/applications/{name}/rollback", summary: "Commit a revert of its files to an earlier revision and push it",
		body: apiv1.RollbackRequest{}, response: apiv1.RollbackResult{}},
	{method: "get", path: "/sources", summary: "GitRepositories the user may read", response: apiv1.SourceList{}, params: []string{"namespace"}},
	{method: "get", path: "/namespaces/{ns}/sources/{name}", summary: "One GitRepository", response: apiv1.Source{}},
	{method: "get", path: "/watch/applications", summary: "Application changes as Server-Sent Events (event: ADDED|MODIFIED|DELETED, data: WatchEvent)",
		response: apiv1.WatchEvent{}, params: []string{"namespace", "name"}},
	{method: "get", path: "/sealing/publickey", summary: "The cluster's public sealing keys, to seal Secrets to", response: apiv1.SealingPublicKey{}},
}

func openAPIDocument(serverURL string) map[string]any {
	schemas := map[string]any{}
	paths := map[string]any{}
	for _, rt := range apiRoutes {
		op := map[string]any{"summary": rt.summary, "operationId": rt.method + strings.NewReplacer("/", "_", "{", "", "}", "").Replace(rt.path)}
		var params []any
		for _, p := range []string{"ns", "name"} {
			if strings.Contains(rt.path, "{"+p+"}") {
				params = append(params, map[string]any{"name": p, "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
			}
		}
		for _, p := range rt.params {
			params = append(params, map[string]any{"name": p, "in": "query", "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.body != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": schemaRef(reflect.TypeOf(rt.body), schemas)}}}
		}
		mediaType := "application/json"
		if strings.HasPrefix(rt.path, "/watch/") {
			mediaType = "text/event-stream"
		}
		op["responses"] = map[string]any{
			"200":     map[string]any{"description": "OK", "content": map[string]any{mediaType: map[string]any{"schema": schemaRef(reflect.TypeOf(rt.response), schemas)}}},
			"default": map[string]any{"description": "Error (code is stable)", "content": map[string]any{"application/json": map[string]any{"schema": schemaRef(reflect.TypeOf(apiv1.ErrorResponse{}), schemas)}}},
		}
		if rt.path != "/authconfig" {
			op["security"] = []any{map[string]any{"oauth2": []any{}}}
		}
		item, _ := paths["/api/v1"+rt.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths["/api/v1"+rt.path] = item
		}
		item[rt.method] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "cruise API", "version": "v1"},
		"servers": []any{map[string]any{"url": serverURL}},
		"paths":   paths,
		"components": map[string]any{
			"schemas": schemas,
			"securitySchemes": map[string]any{"oauth2": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
				"description": "OAuth 2.1 access token in the Authorization header; never in the URL"}},
		},
	}
}

var timeType = reflect.TypeOf(time.Time{})

// schemaRef returns a JSON Schema for t, registering named structs.
func schemaRef(t reflect.Type, schemas map[string]any) map[string]any {
	if t.Kind() == reflect.Pointer {
		return schemaRef(t.Elem(), schemas)
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.String:
		return map[string]any{"type": "string"}
	case t.Kind() == reflect.Bool:
		return map[string]any{"type": "boolean"}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return map[string]any{"type": "integer"}
	case t.Kind() == reflect.Slice:
		return map[string]any{"type": "array", "items": schemaRef(t.Elem(), schemas)}
	case t.Kind() == reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaRef(t.Elem(), schemas)}
	case t.Kind() != reflect.Struct:
		return map[string]any{}
	}
	ref := map[string]any{"$ref": "#/components/schemas/" + t.Name()}
	if _, done := schemas[t.Name()]; done {
		return ref
	}
	props := map[string]any{}
	schemas[t.Name()] = map[string]any{"type": "object", "properties": props}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = schemaRef(f.Type, schemas)
	}
	return ref
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.openapi)
}
