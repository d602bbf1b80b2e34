package hookgate_test

import (
	"testing"
	"time"

	"github.com/hookgate/hookgate"
)

func TestCircuitTransitions(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	br := hookgate.Breaker{Failures: 3, Cooldown: 30 * time.Second}
	fail := func(n int) hookgate.CircuitReport { return hookgate.CircuitReport{Breaker: br, Failures: n} }
	var c hookgate.Circuit

	t.Run("OpensAfterConsecutiveFailures", func(t *testing.T) {
		c1, tr := c.Record(fail(2), t0)
		if c1.State != hookgate.CircuitClosed || c1.Failures != 2 || tr != "" {
			t.Fatalf("after 2 failures: %+v %q", c1, tr)
		}
		// A success between resets the count: 2, success, 1 is not 3.
		c2, _ := c1.Record(hookgate.CircuitReport{Breaker: br, Succeeded: true, Failures: 1}, t0)
		if c2.State != hookgate.CircuitClosed || c2.Failures != 1 {
			t.Fatalf("a success between: %+v", c2)
		}
		c3, tr := c2.Record(fail(2), t0)
		if c3.State != hookgate.CircuitOpen || tr != hookgate.TransitionOpened || !c3.NextProbeAt.Equal(t0.Add(30*time.Second)) || !c3.OpenedAt.Equal(t0) {
			t.Fatalf("after 3 in a row: %+v %q", c3, tr)
		}
	})

	open, _ := c.Record(fail(3), t0)
	t.Run("HoldsUntilTheProbe", func(t *testing.T) {
		if at, held := open.Holds(t0.Add(time.Second)); !held || !at.Equal(t0.Add(30*time.Second)) {
			t.Fatalf("Holds = %v %v", at, held)
		}
		if _, ok := open.TakeProbe("p", t0.Add(29*time.Second), t0.Add(time.Hour)); ok {
			t.Fatal("a probe before the cooldown is over")
		}
		// A success of a request in flight does not close it.
		c1, tr := open.Record(hookgate.CircuitReport{Breaker: br, Succeeded: true}, t0)
		if c1.State != hookgate.CircuitOpen || tr != "" {
			t.Fatalf("a success while open: %+v", c1)
		}
	})

	t.Run("ProbeSucceeds", func(t *testing.T) {
		at := t0.Add(30 * time.Second)
		h, ok := open.TakeProbe("p1", at, at.Add(2*time.Minute))
		if !ok || h.State != hookgate.CircuitHalfOpen {
			t.Fatalf("TakeProbe: %+v %v", h, ok)
		}
		if _, ok := h.TakeProbe("p2", at.Add(time.Minute), at.Add(3*time.Minute)); ok {
			t.Fatal("a second probe while the first one's lease runs")
		}
		if until, held := h.Holds(at); !held || !until.Equal(at.Add(2*time.Minute)) {
			t.Fatalf("half open Holds = %v %v", until, held)
		}
		// Another probe's outcome counts as an attempt, not as the probe.
		if x, _ := h.Record(hookgate.CircuitReport{Breaker: br, Probe: "other", ProbeResult: hookgate.ProbeSucceeded, Succeeded: true}, at); x.State != hookgate.CircuitHalfOpen {
			t.Fatalf("a stale probe closed it: %+v", x)
		}
		c1, tr := h.Record(hookgate.CircuitReport{Breaker: br, Probe: "p1", ProbeResult: hookgate.ProbeSucceeded}, at)
		if c1.State != hookgate.CircuitClosed || tr != hookgate.TransitionClosed || c1.Failures != 0 || c1.Probe != "" {
			t.Fatalf("after a good probe: %+v %q", c1, tr)
		}
		// A probe whose lease ended unrecorded may be taken over.
		if _, ok := h.TakeProbe("p2", at.Add(2*time.Minute), at.Add(4*time.Minute)); !ok {
			t.Fatal("no take-over after the probe's lease")
		}
	})

	t.Run("FailedProbesDoubleTheCooldownUpToTenMinutes", func(t *testing.T) {
		c := open
		var waits []time.Duration
		for i := range 7 {
			now := c.NextProbeAt
			h, ok := c.TakeProbe("p", now, now.Add(time.Minute))
			if !ok {
				t.Fatalf("probe %d not taken", i)
			}
			var tr string
			c, tr = h.Record(hookgate.CircuitReport{Breaker: br, Probe: "p", ProbeResult: hookgate.ProbeFailed, Failures: 1}, now)
			if c.State != hookgate.CircuitOpen || tr != "" {
				t.Fatalf("after failed probe %d: %+v %q", i, c, tr)
			}
			waits = append(waits, c.NextProbeAt.Sub(now))
		}
		want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 10 * time.Minute, 10 * time.Minute}
		for i := range want {
			if waits[i] != want[i] {
				t.Fatalf("waits after failed probes = %v, want %v", waits, want)
			}
		}
		if c.Failures != 3+7 {
			t.Fatalf("failures = %d", c.Failures)
		}
	})

	t.Run("ReturnedProbeLetsAnotherGo", func(t *testing.T) {
		at := t0.Add(30 * time.Second)
		h, _ := open.TakeProbe("p1", at, at.Add(2*time.Minute))
		c1, _ := h.Record(hookgate.CircuitReport{Breaker: br, Probe: "p1", ProbeResult: hookgate.ProbeReturned}, at.Add(time.Second))
		if _, ok := c1.TakeProbe("p2", at.Add(time.Second), at.Add(time.Minute)); !ok || c1.Cooldown != 30*time.Second {
			t.Fatalf("after a returned probe: %+v", c1)
		}
	})

	t.Run("OffClosesIt", func(t *testing.T) {
		c1, tr := open.Record(hookgate.CircuitReport{Breaker: hookgate.Breaker{Failures: hookgate.BreakerOff}, Failures: 5}, t0)
		if c1.State != hookgate.CircuitClosed || tr != hookgate.TransitionClosed || c1.Failures != 0 {
			t.Fatalf("off: %+v %q", c1, tr)
		}
	})
}

func TestBreakerSettings(t *testing.T) {
	t.Parallel()
	w := hookgate.Breaker{Failures: 5}
	p := hookgate.Breaker{Failures: 20, Cooldown: time.Minute}
	if got := w.Over(p).Over(hookgate.DefaultBreaker); got != (hookgate.Breaker{Failures: 5, Cooldown: time.Minute}) {
		t.Fatalf("webhook over project = %+v", got)
	}
	for _, tc := range []struct {
		b     hookgate.Breaker
		param string
	}{
		{hookgate.Breaker{Failures: 1001}, "breaker.failures"},
		{hookgate.Breaker{Failures: -2}, "breaker.failures"},
		{hookgate.Breaker{Cooldown: 500 * time.Millisecond}, "breaker.cooldown"},
		{hookgate.Breaker{Cooldown: 11 * time.Minute}, "breaker.cooldown"},
	} {
		err := tc.b.Validate("breaker")
		if e, ok := err.(*hookgate.Error); !ok || e.Param != tc.param {
			t.Errorf("Validate(%+v) = %v, want an error naming %s", tc.b, err, tc.param)
		}
	}
	for _, b := range []hookgate.Breaker{{}, {Failures: hookgate.BreakerOff}, {Failures: 1, Cooldown: time.Second}, {Failures: 1000, Cooldown: 10 * time.Minute}} {
		if err := b.Validate("breaker"); err != nil {
			t.Errorf("Validate(%+v) = %v", b, err)
		}
	}
}
