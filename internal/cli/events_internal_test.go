package cli

import (
	"bytes"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Events of both APIs (core/v1 timestamps, events.k8s.io/v1 eventTime and
// series) are ordered by when they last happened.
func TestWriteEvents(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	events := []corev1.Event{
		{Type: "Warning", Reason: "ApplyFailed", Message: "Deployment/demo/web:\n  invalid", Count: 4,
			FirstTimestamp: metav1.NewTime(ago(time.Hour)), LastTimestamp: metav1.NewTime(ago(2 * time.Minute))},
		{Type: "Normal", Reason: "Progressing", Message: "applying",
			EventTime: metav1.NewMicroTime(ago(30 * time.Minute))},
		{Type: "Normal", Reason: "ReconciliationSucceeded", Message: "applied",
			EventTime: metav1.NewMicroTime(ago(50 * time.Minute)),
			Series:    &corev1.EventSeries{Count: 3, LastObservedTime: metav1.NewMicroTime(ago(5 * time.Second))}},
	}
	var out bytes.Buffer
	if err := writeEvents(&out, events, now); err != nil {
		t.Fatal(err)
	}
	want := `LAST SEEN          TYPE      REASON                    MESSAGE
30m                Normal    Progressing               applying
2m (x4 over 60m)   Warning   ApplyFailed               Deployment/demo/web: invalid
5s (x3 over 50m)   Normal    ReconciliationSucceeded   applied
`
	if out.String() != want {
		t.Errorf("writeEvents:\n%s\nwant:\n%s", out.String(), want)
	}
}
