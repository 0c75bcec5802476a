package apiclient

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// AuthConfig returns what a client needs to log in to the server (GET
// /api/v1/authconfig). It is the one call made without a token.
func (c *Client) AuthConfig(ctx context.Context) (*apiv1.AuthConfig, error) {
	return send[apiv1.AuthConfig](ctx, c, call{method: http.MethodGet, path: "/authconfig", op: "get auth config"})
}

// Whoami returns the identity the token stands for.
func (c *Client) Whoami(ctx context.Context) (*apiv1.Whoami, error) {
	return send[apiv1.Whoami](ctx, c, call{method: http.MethodGet, path: "/whoami", op: "whoami", auth: true})
}

// ListOptions filter and page ListApplications. The zero value lists the
// first page of every namespace the user may read.
type ListOptions struct {
	// Namespace limits the list to one namespace.
	Namespace string
	// Sync and Health keep applications with that value (apiv1.SyncSynced,
	// apiv1.HealthDegraded, ...).
	Sync, Health string
	// Query keeps applications whose name contains it.
	Query string
	// Limit is the page size; 0 leaves it to the server.
	Limit int
	// Continue is the previous page's ApplicationList.Continue.
	Continue string
}

func (o ListOptions) values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("namespace", o.Namespace)
	set("sync", o.Sync)
	set("health", o.Health)
	set("q", o.Query)
	if o.Limit > 0 {
		v.Set("limit", strconv.Itoa(o.Limit))
	}
	set("continue", o.Continue)
	return v
}

// ListApplications returns one page of applications.
func (c *Client) ListApplications(ctx context.Context, o ListOptions) (*apiv1.ApplicationList, error) {
	return send[apiv1.ApplicationList](ctx, c, call{method: http.MethodGet, path: "/applications", query: o.values(), op: "list applications", auth: true})
}

// appCall is a call about the application namespace/name; sub is "" or
// "/sync", "/history", ...
func appCall(method, namespace, name, sub, op string) call {
	return call{
		method: method,
		path:   "/namespaces/" + url.PathEscape(namespace) + "/applications/" + url.PathEscape(name) + sub,
		op:     op,
		app:    namespace + "/" + name,
		auth:   true,
	}
}

// GetApplication returns one application.
func (c *Client) GetApplication(ctx context.Context, namespace, name string) (*apiv1.Application, error) {
	return send[apiv1.Application](ctx, c, appCall(http.MethodGet, namespace, name, "", "get application"))
}

// Resources returns the application's resource tree.
func (c *Client) Resources(ctx context.Context, namespace, name string) (*apiv1.ResourceTree, error) {
	return send[apiv1.ResourceTree](ctx, c, appCall(http.MethodGet, namespace, name, "/resources", "get resources of"))
}

// Diff returns what applying Git now would change.
func (c *Client) Diff(ctx context.Context, namespace, name string) (*apiv1.Diff, error) {
	return send[apiv1.Diff](ctx, c, appCall(http.MethodGet, namespace, name, "/diff", "diff"))
}

// Events returns the application's events, newest first.
func (c *Client) Events(ctx context.Context, namespace, name string) (*apiv1.EventList, error) {
	return send[apiv1.EventList](ctx, c, appCall(http.MethodGet, namespace, name, "/events", "get events of"))
}

// History returns the application's syncs, newest first.
func (c *Client) History(ctx context.Context, namespace, name string) (*apiv1.History, error) {
	return send[apiv1.History](ctx, c, appCall(http.MethodGet, namespace, name, "/history", "get history of"))
}

// action posts an empty JSON object to an action route.
func (c *Client) action(ctx context.Context, namespace, name, action string) (*apiv1.ActionResult, error) {
	r := appCall(http.MethodPost, namespace, name, "/"+action, action)
	r.body = struct{}{}
	return send[apiv1.ActionResult](ctx, c, r)
}

// Sync asks the controller to reconcile the application now.
func (c *Client) Sync(ctx context.Context, namespace, name string) (*apiv1.ActionResult, error) {
	return c.action(ctx, namespace, name, "sync")
}

// Suspend stops reconciling the application.
func (c *Client) Suspend(ctx context.Context, namespace, name string) (*apiv1.ActionResult, error) {
	return c.action(ctx, namespace, name, "suspend")
}

// Resume resumes reconciling the application and requests a sync.
func (c *Client) Resume(ctx context.Context, namespace, name string) (*apiv1.ActionResult, error) {
	return c.action(ctx, namespace, name, "resume")
}

// Rollback pushes a commit that returns the application's files to
// revision (a commit SHA or a prefix of at least 7 hex digits). A
// conflict with later commits is an *Error with code apiv1.CodeConflict
// naming the files.
func (c *Client) Rollback(ctx context.Context, namespace, name, revision string) (*apiv1.RollbackResult, error) {
	r := appCall(http.MethodPost, namespace, name, "/rollback", "rollback")
	r.body = apiv1.RollbackRequest{Revision: revision}
	return send[apiv1.RollbackResult](ctx, c, r)
}

// ListSources returns the GitRepositories of namespace, or of every
// namespace the user may read when it is empty.
func (c *Client) ListSources(ctx context.Context, namespace string) (*apiv1.SourceList, error) {
	q := url.Values{}
	if namespace != "" {
		q.Set("namespace", namespace)
	}
	return send[apiv1.SourceList](ctx, c, call{method: http.MethodGet, path: "/sources", query: q, op: "list sources", auth: true})
}
