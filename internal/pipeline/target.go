package pipeline

import (
	"time"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/apply"
)

// DefaultTimeout bounds a sync, health wait included, when the Application
// sets no spec.timeout.
const DefaultTimeout = 5 * time.Minute

// Target says where rendered objects go and how they are applied: the
// apply half of an Application's spec ([TargetOf]), or of the push
// commands' flags. The zero value applies to the cluster's defaults,
// without prune, force or wait.
type Target struct {
	// Owner names the inventory; it labels every applied object, and prune
	// deletes nothing that does not carry its labels.
	Owner apply.Owner
	// Namespaces: Default for namespaced objects that name none, Target
	// (when set) for every namespaced object.
	Namespaces apply.Namespaces
	// Prune deletes the objects of the inventory that are no longer
	// rendered; a diff reports them as to be pruned.
	Prune bool
	// Force recreates objects whose immutable fields changed. A diff shows
	// such changes either way.
	Force bool
	// Wait waits up to Timeout for every applied object to be healthy.
	Wait bool
	// Timeout bounds the wait; zero or negative means DefaultTimeout.
	// TargetOf always sets it, so callers may bound the whole apply by it.
	Timeout time.Duration
}

// TargetOf is the Target of an Application: its own name and namespace
// own the inventory and are the default namespace; spec.targetNamespace,
// spec.prune and spec.force as written; spec.wait defaults to true and
// spec.timeout to DefaultTimeout.
func TargetOf(app *v1alpha1.Application) Target {
	t := Target{
		Owner:      apply.Owner{Name: app.Name, Namespace: app.Namespace},
		Namespaces: apply.Namespaces{Default: app.Namespace, Target: app.Spec.TargetNamespace},
		Prune:      app.Spec.Prune,
		Force:      app.Spec.Force,
		Wait:       app.WaitEnabled(),
		Timeout:    DefaultTimeout,
	}
	if d := app.Spec.Timeout; d != nil && d.Duration > 0 {
		t.Timeout = d.Duration
	}
	return t
}

// ApplyOptions are the options of Engine.Apply for t, recording what is
// applied in inv. DryRun and Progress are left to the caller.
func (t Target) ApplyOptions(inv apply.Inventory) apply.ApplyOptions {
	o := apply.ApplyOptions{
		Owner:      t.Owner,
		Inventory:  inv,
		Namespaces: t.Namespaces,
		Prune:      t.Prune,
		Force:      t.Force,
	}
	if t.Wait {
		o.WaitTimeout = t.Timeout
		if o.WaitTimeout <= 0 {
			o.WaitTimeout = DefaultTimeout
		}
	}
	return o
}

// DiffOptions are the options of Engine.Diff that compare with what
// ApplyOptions(inv) would do: the same owner, inventory, namespaces and
// prune.
func (t Target) DiffOptions(inv apply.Inventory) apply.DiffOptions {
	return apply.DiffOptions{
		Owner:      t.Owner,
		Inventory:  inv,
		Namespaces: t.Namespaces,
		Prune:      t.Prune,
	}
}
