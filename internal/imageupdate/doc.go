// Package imageupdate is one run of an ImageUpdateAutomation over the
// files of a branch, without Kubernetes: which marked values change, the
// commit message and push branch templates, and holds. The controller
// gives it the namespace's ImagePolicies and the automation's status, and
// passes [Run.Edit] to gitwrite.Update, which calls it on the branch head
// (again on the new head when someone pushed first).
//
// # Markers
//
// Setter markers are Flux's (see internal/image): `# {"$imagepolicy":
// "ns:policy"}` and its ":tag", ":name" and ":digest" forms. Only .yaml and
// .yml files that contain "$imagepolicy" are parsed. A marker may name
// only an ImagePolicy of the automation's own namespace that its
// policySelector selects: a marker naming any other (another namespace,
// no such policy, one the selector leaves out) is reported as [Missing]
// with its file and line, and the rest of the run goes on. Keeping to the
// automation's namespace means nobody can make an automation write what a
// policy of someone else's namespace chooses, and one automation's
// markers resolve the same way wherever its repository lives.
//
// # Holds
//
// After a rollback (cruise's revert commit) the automation must not bump
// the image straight back. [Run.Observed] is what each policy chose at
// the last run, which the automation wrote (or found written). When at a
// run a marker's value differs from what that choice writes while the
// policy still makes the same choice, the value was changed in Git since
// (a revert, or a person pinning a version): the choice is held and the
// value kept. A hold ends when the policy chooses a different version
// (which is written), when the hold is lifted ([Run.ReleaseHolds], from
// `cruise resume image update NAME`), or when there is nothing left to
// hold: every marker is back at the held value, or no marker names the
// policy any more.
//
// A marker added with an older value for a policy the automation already
// follows is held the same way; lift the hold to have it written.
// Detection is off when every update goes to a branch of its own (a
// templated push branch): the checked-out branch then never holds what
// the automation wrote.
package imageupdate
