package server

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
	"github.com/cruisegitops/cruise/internal/source"
)

// healthOf maps kstatus results, as the controller records them, to the
// words people know from other GitOps tools.
func healthOf(kstatus string) string {
	switch kstatus {
	case "Current":
		return apiv1.HealthHealthy
	case "InProgress":
		return apiv1.HealthProgressing
	case "Failed":
		return apiv1.HealthDegraded
	case "NotFound", "Terminating":
		return apiv1.HealthMissing
	case "":
		return ""
	}
	return apiv1.HealthUnknown
}

// healthRank orders health from best to worst.
var healthRank = map[string]int{
	apiv1.HealthHealthy: 0, apiv1.HealthSuspended: 1, apiv1.HealthProgressing: 2,
	apiv1.HealthUnknown: 3, apiv1.HealthMissing: 4, apiv1.HealthDegraded: 5,
}

func toApplication(a *v1alpha1.Application) apiv1.Application {
	out := apiv1.Application{
		Namespace: a.Namespace, Name: a.Name,
		Source: apiv1.SourceRef{Namespace: a.SourceNamespace(), Name: a.Spec.SourceRef.Name},
		Path:   a.Spec.Path, Suspended: a.Spec.Suspend,
		Ready: string(metav1.ConditionUnknown), Revision: a.Status.LastAppliedRevision,
		LastAttempted: a.Status.LastAttemptedRevision, ResourceVersion: a.ResourceVersion,
		LastHandledReconcileAt: a.Status.LastHandledReconcileAt,
	}
	ready := meta.FindStatusCondition(a.Status.Conditions, v1alpha1.ConditionReady)
	if ready != nil {
		out.Ready, out.Reason, out.Message = string(ready.Status), ready.Reason, ready.Message
	}
	if spec, st := a.Spec.Chart, a.Status.Chart; spec != nil || st != nil {
		out.Chart = &apiv1.Chart{}
		if spec != nil {
			out.Chart.RepoURL, out.Chart.Name = spec.RepoURL, spec.Name
			out.Source = apiv1.SourceRef{}
		}
		if st != nil {
			out.Chart.Name, out.Chart.Version, out.Chart.AppVersion = st.Name, st.Version, st.AppVersion
		}
	}
	out.LastSyncTime = lastSyncTime(a)
	resources := a.Status.Resources
	out.ResourceCount = len(resources)
	if out.ResourceCount == 0 {
		out.ResourceCount = len(a.Status.Inventory)
	}

	out.Sync, out.Health = apiv1.SyncUnknown, apiv1.HealthUnknown
	if len(resources) > 0 {
		out.Sync, out.Health = apiv1.SyncSynced, apiv1.HealthHealthy
		for _, r := range resources {
			if r.Sync == apiv1.SyncOutOfSync {
				out.Sync = apiv1.SyncOutOfSync
			}
			if h := healthOf(r.Health); h != "" && healthRank[h] > healthRank[out.Health] {
				out.Health = h
			}
		}
	}
	// A newer revision not yet applied is out of sync whatever the
	// objects say.
	if out.LastAttempted != "" && revisionKey(out.LastAttempted) != revisionKey(out.Revision) {
		out.Sync = apiv1.SyncOutOfSync
	}
	if len(resources) == 0 && ready != nil {
		switch {
		case ready.Status == metav1.ConditionTrue:
			out.Sync, out.Health = apiv1.SyncSynced, apiv1.HealthHealthy
		case ready.Reason == v1alpha1.ReasonProgressing:
			out.Health = apiv1.HealthProgressing
		case ready.Status == metav1.ConditionFalse && ready.Reason != v1alpha1.ReasonSuspended:
			out.Health = apiv1.HealthDegraded
		}
	}
	if a.Spec.Suspend && out.Health == apiv1.HealthUnknown {
		out.Health = apiv1.HealthSuspended
	}
	return out
}

func toSource(g *v1alpha1.GitRepository) apiv1.Source {
	out := apiv1.Source{Namespace: g.Namespace, Name: g.Name, URL: g.Spec.URL, Suspended: g.Spec.Suspend,
		Ready: string(metav1.ConditionUnknown)}
	if r := g.Spec.Ref; r != nil {
		switch {
		case r.Commit != "":
			out.Ref = "commit " + r.Commit
		case r.SemVer != "":
			out.Ref = "semver " + r.SemVer
		case r.Tag != "":
			out.Ref = "tag " + r.Tag
		case r.Branch != "":
			out.Ref = "branch " + r.Branch
		}
	}
	if c := meta.FindStatusCondition(g.Status.Conditions, v1alpha1.ConditionReady); c != nil {
		out.Ready, out.Message = string(c.Status), c.Message
	}
	if art := g.Status.Artifact; art != nil {
		out.Revision, out.Commit, out.Subject, out.Author = art.Revision, art.Commit, art.Message, art.Author
	}
	if t := g.Status.LastFetchTime; t != nil {
		ft := t.Time
		out.FetchedAt = &ft
	}
	return out
}

func toHistory(a *v1alpha1.Application) []apiv1.HistoryEntry {
	out := make([]apiv1.HistoryEntry, 0, len(a.Status.History))
	for _, h := range a.Status.History {
		out = append(out, apiv1.HistoryEntry{Revision: h.Revision, Commit: source.RevisionCommit(h.Revision), Subject: h.Message,
			Author: h.Author, Time: h.Time.Time.UTC().Truncate(time.Second), Digest: h.Digest, Result: h.Result, Error: h.Error})
	}
	return out
}

// lastSyncTime is when the Application last synced successfully; from its
// newest successful history entry when the controller predates
// status.lastSyncTime.
func lastSyncTime(a *v1alpha1.Application) *time.Time {
	if t := a.Status.LastSyncTime; t != nil {
		return &t.Time
	}
	for _, h := range a.Status.History {
		if h.Result == "Succeeded" {
			return &h.Time.Time
		}
	}
	return nil
}

// revisionKey identifies a revision: a Git commit, or a repository
// chart's whole "<version>@sha256:<digest>".
func revisionKey(revision string) string {
	if c := source.RevisionCommit(revision); c != "" {
		return c
	}
	return revision
}
