// Package helm renders Helm charts into objects for cruise's one apply
// engine, with Helm's own semantics where charts depend on them.
//
// It uses the Helm v4 SDK (helm.sh/helm/v4) for what makes a render
// Helm's: the chart loader, value coalescing, dependency conditions and
// import-values, values.schema.json, the template engine with its
// function library, and the manifest sorter that splits hooks from
// ordinary objects. It does not use Helm's install and upgrade actions:
// the objects go through cruise's server-side apply, prune, drift revert
// and health checks like any other, and hooks run as phases around that
// apply (see the hook runner).
//
// What differs from `helm template`, on purpose:
//
//   - lookup reads the cluster through the rest.Config given, which the
//     caller makes the applying identity's (impersonation), so a tenant's
//     chart sees what the tenant may see and nothing more;
//   - functions that generate values (randAlphaNum, uuidv4, genCA, ...)
//     are replaced by versions that return what they returned the first
//     time for the same call, from a Generated store the caller keeps;
//     without that, every render would differ and the release would never
//     be in sync;
//   - no post-renderer binary ever runs, and charts are loaded only from
//     memory or from inside a confined directory, so .Files cannot reach
//     the controller's file system; a values.schema.json may refer only
//     to parts of itself, since Helm's validator would fetch URLs and read
//     files for it.
//
// Around the render: [Discover] reads .Capabilities from a cluster,
// [LoadGenerated] and [StoreGenerated] keep generated values in a Secret,
// and [CheckStoredVersions] refuses a CRD update that would strand stored
// objects. Hooks are run by the hookrun package; charts are fetched from
// repositories by chartrepo.
package helm
