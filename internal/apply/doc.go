// Package apply makes a Kubernetes cluster match a set of rendered objects:
// it validates, applies, records, prunes, diffs and waits for health. It is
// the one engine behind `cruise apply`, `cruise diff`, the operator and the
// UI's sync button, and knows nothing of cruise's own custom resources.
//
// # Applying
//
// Engine.Apply uses server-side apply with the field manager "cruise"
// (EngineOptions.FieldManager). Fields that Git sets are taken over from
// other managers (a person's kubectl edit loses); fields Git does not set
// stay with whoever set them, so an HPA keeps its replicas. No
// last-applied-configuration annotation is written, so objects of any size
// the API server accepts can be applied.
//
// The order is fixed: CustomResourceDefinitions and Namespaces first, then,
// once the CRDs are Established, everything else. Before anything changes,
// every object is validated with a server-side dry-run; one invalid object
// means nothing is applied, and the error names the object and the file it
// came from. Objects whose Namespace or CRD is defined in the same set
// cannot be dry-run before that definition exists: they are validated right
// after the definitions are applied, and if one of them is invalid, the
// definitions this run created are deleted again, so the cluster is left as
// it was. Should that fail (an identity may be allowed to create Namespaces
// but not to delete them), the error says which definition was left behind,
// beside the original error, and the definition stays in the inventory so
// that a later run can prune it.
//
// An object that did not change (its dry-run result equals the live object)
// is not written. A change to an immutable field (a Job's template, a
// Deployment's selector) is an error naming the object, unless
// ApplyOptions.Force is set or the object carries the annotation
// cruise.dev/force: enabled; then it is deleted and created again.
//
// # Inventory and prune
//
// What was applied under a name is recorded in an Inventory (ConfigMap
// "cruise-inventory-<name>" for the command line; the operator keeps it in
// its custom resource's status). The record is written twice: before any
// change, as the union of the old and new sets, and after pruning, as the
// new set. A crash at any point therefore leaves every object the engine
// may have created in the record, and the next run prunes it if it is no
// longer wanted.
//
// Pruning deletes only objects that were in the previous inventory, are no
// longer rendered, and still carry this inventory's owner labels; an object
// annotated cruise.dev/prune: disabled is kept. Namespaces and CRDs are
// deleted last, and only when no other object managed by cruise (nor, for a
// CRD, any custom resource at all) remains in them. Deleting either deletes
// everything in it, whoever made it, so what the engine cannot look at
// counts as in use: a kind its identity may not list in the Namespace (or
// an API group discovery cannot read) keeps the Namespace, and custom
// resources it may not list keep their CRD. The definition is then
// PruneSkipped, with a message naming what could not be listed, and stays
// in the inventory for a later run.
//
// # Diff and health
//
// Engine.Diff compares each object's server-side dry-run result with the
// live object. It counts as drifted only when a field the manifests set
// differs, so fields defaulted by the API server never show as drift.
// Objects are shown as YAML without managedFields, status and
// server-generated metadata, and Secret values are masked.
//
// Engine.Wait computes each object's health with kstatus: Current,
// InProgress or Failed, until all are Current, one fails, or the timeout
// passes.
package apply
