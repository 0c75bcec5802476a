package controller

import (
	"fmt"
	"sync"

	"k8s.io/client-go/rest"

	"github.com/cruisegitops/cruise/internal/apply"
)

// engines hands out one apply.Engine per identity: the controller's own,
// or a ServiceAccount it impersonates for a tenant's Application. Engines
// are reused because each carries its discovery cache.
type engines struct {
	base *rest.Config
	opts apply.EngineOptions

	mu    sync.Mutex
	cache map[string]*apply.Engine // guarded by mu; key "" is the controller itself
}

func newEngines(base *rest.Config, opts apply.EngineOptions) *engines {
	return &engines{base: base, opts: opts, cache: map[string]*apply.Engine{}}
}

// forServiceAccount returns the engine acting as namespace/name, or as the
// controller itself when name is empty.
func (e *engines) forServiceAccount(namespace, name string) (*apply.Engine, error) {
	key := ""
	if name != "" {
		key = "system:serviceaccount:" + namespace + ":" + name
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if eng, ok := e.cache[key]; ok {
		return eng, nil
	}
	eng, err := apply.NewEngine(e.configFor(namespace, name), e.opts)
	if err != nil {
		return nil, fmt.Errorf("engine for %q: %w", key, err)
	}
	e.cache[key] = eng
	return eng, nil
}

// configFor is the rest.Config acting as namespace/name, or as the
// controller itself when name is empty: what a chart's lookup reads as.
func (e *engines) configFor(namespace, name string) *rest.Config {
	cfg := rest.CopyConfig(e.base)
	if name != "" {
		cfg.Impersonate = rest.ImpersonationConfig{
			UserName: "system:serviceaccount:" + namespace + ":" + name,
			Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
		}
	}
	return cfg
}
