package apply

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/cruisegitops/cruise/internal/render"
)

// EngineOptions configures NewEngine. The zero value works.
type EngineOptions struct {
	// FieldManager is the server-side apply field manager; default "cruise".
	FieldManager string
	// Concurrency bounds parallel requests per phase; default 16.
	Concurrency int
}

// Engine applies, diffs, prunes and health-checks objects in one cluster
// with one identity (the rest.Config's, impersonation included). It is safe
// for concurrent use.
type Engine struct {
	client      client.Client
	mapper      meta.RESTMapper
	discovery   discovery.DiscoveryInterface
	manager     string
	concurrency int
	host        string // API server URL, for messages
}

// NewEngine returns an Engine for the cluster cfg points at.
func NewEngine(cfg *rest.Config, opts EngineOptions) (*Engine, error) {
	if opts.FieldManager == "" {
		opts.FieldManager = "cruise"
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("http client for %s: %w", cfg.Host, err)
	}
	return newEngine(cfg, httpClient, opts)
}

func newEngine(cfg *rest.Config, httpClient *http.Client, opts EngineOptions) (*Engine, error) {
	// The dynamic mapper re-reads discovery on a miss, so kinds of CRDs
	// created during an apply resolve without a restart.
	mapper, err := apiutil.NewDynamicRESTMapper(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("discover APIs of %s: %w", cfg.Host, err)
	}
	c, err := client.New(cfg, client.Options{HTTPClient: httpClient, Mapper: mapper})
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", cfg.Host, err)
	}
	dc, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("discovery client for %s: %w", cfg.Host, err)
	}
	return &Engine{client: c, mapper: mapper, discovery: dc, manager: opts.FieldManager, concurrency: opts.Concurrency, host: cfg.Host}, nil
}

// Client returns the controller-runtime client the engine uses.
func (e *Engine) Client() client.Client { return e.client }

// definitionTimeout bounds the wait for new CRDs to be served and new
// Namespaces to exist; both take well under a second on a healthy cluster.
const definitionTimeout = 2 * time.Minute

// Apply makes the cluster match objs: validate, apply in order, record,
// prune and (optionally) wait, as described in the package documentation.
// On a validation error nothing has changed. When objects were applied but
// did not become healthy in time, the Result is complete and the error
// wraps ErrUnhealthy.
func (e *Engine) Apply(ctx context.Context, objs []render.Object, opts ApplyOptions) (*Result, error) {
	progress := opts.Progress
	if progress == nil {
		progress = func(Event) {}
	}
	if opts.Prune && opts.Inventory == nil {
		return nil, errors.New("prune needs an inventory")
	}
	items, err := e.prepare(ctx, objs, opts.Owner, opts.Namespaces)
	if err != nil {
		return nil, err
	}
	var recorded []ObjRef
	if opts.Inventory != nil {
		if recorded, err = opts.Inventory.Load(ctx); err != nil {
			return nil, err
		}
	}
	if err := e.fetchLive(ctx, items, opts.Owner); err != nil {
		return nil, err
	}
	now, later := splitByDefinition(items)
	if err := e.plan(ctx, now, opts.Force); err != nil {
		return nil, err
	}

	res := &Result{}
	if opts.DryRun {
		// Objects waiting for a new Namespace or CRD cannot be dry-run
		// before it exists; they would be created.
		for _, it := range later {
			it.action = Created
		}
		for _, it := range items {
			res.Changes = append(res.Changes, it.change())
			progress(Event{Type: EventApplied, Change: it.change()})
		}
		if opts.Prune {
			pruned, _, err := e.prune(ctx, recorded, items, opts.Owner, true, progress)
			res.Changes = append(res.Changes, pruned...)
			if err != nil {
				return res, err
			}
		}
		return res, nil
	}

	// Record every object this run may create before creating any, so that
	// a crash from here on orphans nothing.
	if opts.Inventory != nil {
		if err := opts.Inventory.Store(ctx, unionRefs(recorded, items)); err != nil {
			return nil, err
		}
	}
	var defs, rest []*item
	for _, it := range now {
		if it.definition {
			defs = append(defs, it)
		} else {
			rest = append(rest, it)
		}
	}
	if err := e.write(ctx, defs, progress); err != nil {
		return nil, err
	}
	if len(later) > 0 {
		if err := e.waitDefinitions(ctx, defs, definitionTimeout); err != nil {
			return nil, err
		}
		if err := e.plan(ctx, later, opts.Force); err != nil {
			return nil, e.undoDefinitions(ctx, defs, recorded, opts.Inventory, err)
		}
		rest = append(rest, later...)
		sortByRank(rest)
	}
	if err := e.write(ctx, rest, progress); err != nil {
		return nil, err
	}
	for _, it := range items {
		res.Changes = append(res.Changes, it.change())
	}

	keep := refsOf(items)
	if opts.Prune {
		pruned, kept, err := e.prune(ctx, recorded, items, opts.Owner, false, progress)
		res.Changes = append(res.Changes, pruned...)
		keep = append(keep, kept...)
		if err != nil {
			// What could not be deleted stays recorded for the next run.
			// The caller's context may be what made prune fail.
			cctx, cancel := cleanupContext(ctx)
			defer cancel()
			if serr := opts.Inventory.Store(cctx, keep); serr != nil {
				err = errors.Join(err, serr)
			}
			return res, err
		}
	} else if opts.Inventory != nil {
		// Without prune, objects that left Git stay recorded: a later
		// run with prune still removes them.
		keep = unionRefs(recorded, items)
	}
	if opts.Inventory != nil {
		if err := opts.Inventory.Store(ctx, keep); err != nil {
			return res, err
		}
	}

	if opts.WaitTimeout > 0 {
		known := make(map[string]*unstructured.Unstructured, len(items))
		for _, it := range items {
			if it.live != nil {
				known[it.ref.Key()] = it.live
			}
		}
		health, err := e.wait(ctx, refsOf(items), known, opts.WaitTimeout, func(h Health) {
			progress(Event{Type: EventHealth, Health: h})
		})
		res.Health = health
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

func splitByDefinition(items []*item) (now, later []*item) {
	for _, it := range items {
		if it.needsDefinition {
			later = append(later, it)
		} else {
			now = append(now, it)
		}
	}
	return now, later
}

func sortByRank(items []*item) {
	sort.SliceStable(items, func(i, j int) bool { return rank(items[i].ref) < rank(items[j].ref) })
}

func refsOf(items []*item) []ObjRef {
	refs := make([]ObjRef, len(items))
	for i, it := range items {
		refs[i] = it.ref
	}
	return refs
}

// unionRefs returns recorded plus the items' refs, each object once; an
// item's ref wins over a recorded one (its API version may be newer).
func unionRefs(recorded []ObjRef, items []*item) []ObjRef {
	out := refsOf(items)
	seen := make(map[string]bool, len(out))
	for _, r := range out {
		seen[r.Key()] = true
	}
	for _, r := range recorded {
		if !seen[r.Key()] {
			seen[r.Key()] = true
			out = append(out, r)
		}
	}
	return out
}
