package helm

import (
	"github.com/cruisegitops/cruise/internal/render"
)

// Hook events, as charts name them in the helm.sh/hook annotation.
const (
	PreInstall   = "pre-install"
	PostInstall  = "post-install"
	PreUpgrade   = "pre-upgrade"
	PostUpgrade  = "post-upgrade"
	PreDelete    = "pre-delete"
	PostDelete   = "post-delete"
	PreRollback  = "pre-rollback"
	PostRollback = "post-rollback"
	TestHook     = "test"
)

// Hook delete policies (helm.sh/hook-delete-policy).
const (
	BeforeHookCreation = "before-hook-creation"
	HookSucceeded      = "hook-succeeded"
	HookFailed         = "hook-failed"
)

// Hook is one object a chart marks with helm.sh/hook: it is never an
// ordinary object of the release (not in the inventory, the diff or the
// prune), but runs at the events it names.
type Hook struct {
	// Object's Source is "<chart>/templates/<file>", as Helm prints it.
	Object render.Object
	// Events lists the helm.sh/hook events, e.g. "pre-install".
	Events []string
	// Weight is helm.sh/hook-weight; lower runs first.
	Weight int
	// DeletePolicies lists helm.sh/hook-delete-policy; empty means
	// before-hook-creation, as in Helm.
	DeletePolicies []string
}

// Has says whether the hook runs at event.
func (h Hook) Has(event string) bool {
	for _, e := range h.Events {
		if e == event {
			return true
		}
	}
	return false
}
