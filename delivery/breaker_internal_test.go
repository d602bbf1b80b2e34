package delivery

import (
	"testing"

	"github.com/hookgate/hookgate"
)

// Issue 24, item 2: for the breaker a failure is no answer, a 5xx or a
// 429; a batch folds into one report per webhook: the failures after its
// last success, and its probe's result.
func TestCircuitReports(t *testing.T) {
	t.Parallel()
	att := func(wh string, code int) outcome {
		return outcome{AttemptOutcome: hookgate.AttemptOutcome{WebhookID: wh, Status: map[bool]string{true: hookgate.DeliverySucceeded, false: hookgate.DeliveryPending}[code/100 == 2],
			Attempt: hookgate.Attempt{ID: "att", StatusCode: code}}, report: true}
	}
	for _, c := range []struct {
		code int
		fail bool
	}{{200, false}, {204, false}, {400, false}, {404, false}, {410, false}, {302, false}, {0, true}, {429, true}, {500, true}, {503, true}} {
		o := att("w", c.code)
		if got := breakerFailure(&o); got != c.fail {
			t.Errorf("breakerFailure(%d) = %v, want %v", c.code, got, c.fail)
		}
	}
	probe := att("b", 503)
	probe.probe = "p1"
	returned := outcome{AttemptOutcome: hookgate.AttemptOutcome{WebhookID: "c", Status: hookgate.DeliveryPending}, release: true, probe: "p2", report: true}
	unsent := att("a", 0)
	unsent.unsent = true
	skipped := att("a", 500)
	skipped.report = false
	got := circuitReports([]outcome{att("a", 500), att("a", 200), att("a", 503), probe, unsent, skipped, att("a", 0), returned})
	want := []hookgate.CircuitReport{
		{WebhookID: "a", Succeeded: true, Failures: 2, LastStatusCode: 0},
		{WebhookID: "b", Failures: 1, LastStatusCode: 503, Probe: "p1", ProbeResult: hookgate.ProbeFailed},
		{WebhookID: "c", Probe: "p2", ProbeResult: hookgate.ProbeReturned},
	}
	if len(got) != len(want) {
		t.Fatalf("reports = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("report %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if circuitReports([]outcome{skipped}) != nil {
		t.Error("a report of an outcome that is not for the circuit")
	}
}
