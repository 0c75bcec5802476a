package controller

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
)

// markReady sets Ready=True and clears Reconciling and Stalled.
func markReady(conds *[]metav1.Condition, gen int64, reason, msg string) {
	set(conds, gen, cruisev1.ConditionReady, metav1.ConditionTrue, reason, msg)
	meta.RemoveStatusCondition(conds, cruisev1.ConditionReconciling)
	meta.RemoveStatusCondition(conds, cruisev1.ConditionStalled)
}

// markReconciling says work is under way: Reconciling True, Ready Unknown
// (whatever it was, the outcome of this run will say), Stalled gone.
func markReconciling(conds *[]metav1.Condition, gen int64, msg string) {
	set(conds, gen, cruisev1.ConditionReconciling, metav1.ConditionTrue, cruisev1.ReasonProgressing, msg)
	set(conds, gen, cruisev1.ConditionReady, metav1.ConditionUnknown, cruisev1.ReasonProgressing, msg)
	meta.RemoveStatusCondition(conds, cruisev1.ConditionStalled)
}

// markFailed records a phase error in the conditions.
func markFailed(conds *[]metav1.Condition, gen int64, pe *phaseError) {
	set(conds, gen, cruisev1.ConditionReady, metav1.ConditionFalse, pe.Reason, pe.Error())
	switch {
	case pe.Stalling:
		set(conds, gen, cruisev1.ConditionStalled, metav1.ConditionTrue, pe.Reason, pe.Error())
		meta.RemoveStatusCondition(conds, cruisev1.ConditionReconciling)
	case pe.Waiting:
		meta.RemoveStatusCondition(conds, cruisev1.ConditionStalled)
		set(conds, gen, cruisev1.ConditionReconciling, metav1.ConditionTrue, pe.Reason, pe.Error())
	default:
		meta.RemoveStatusCondition(conds, cruisev1.ConditionStalled)
		meta.RemoveStatusCondition(conds, cruisev1.ConditionReconciling)
	}
}

func set(conds *[]metav1.Condition, gen int64, typ string, status metav1.ConditionStatus, reason, msg string) {
	if len(msg) > 1024 {
		msg = msg[:1021] + "..."
	}
	meta.SetStatusCondition(conds, metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: gen})
}

func isReady(conds []metav1.Condition, gen int64) bool {
	c := meta.FindStatusCondition(conds, cruisev1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == gen
}
