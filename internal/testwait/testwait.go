// Package testwait waits in tests for a condition, never for a fixed time:
// a test that sleeps and then asserts fails on a loaded machine, and one
// that polls until a generous deadline only takes longer there.
package testwait

import (
	"testing"
	"time"
)

// Timeout is how long For waits before it fails the test: generous, so
// that only a condition that never comes fails, not a slow machine. Tests
// that wait on a channel use it as their deadline too.
const Timeout = 20 * time.Second

// For polls cond, at first every millisecond and then every 50 ms at
// most, until it returns true. It fails the test, naming what it waited
// for, once Timeout has passed, or shortly before the test binary's own
// deadline (go test -timeout) when that comes first, so that the failure
// names the condition instead of ending in a dump of every goroutine.
func For(t testing.TB, what string, cond func() bool) {
	t.Helper()
	poll(t, what, Deadline(t), cond)
}

// Within is For with a bound of its own, for a wait whose length is what
// a test checks (a restarted server takes rows back at once, not after
// their two-minute lease, say): it fails the test once d has passed, or
// shortly before the test binary's deadline.
func Within(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	poll(t, what, until(t, d), cond)
}

func poll(t testing.TB, what string, deadline time.Time, cond func() bool) {
	t.Helper()
	start := time.Now()
	for wait := time.Millisecond; !cond(); wait = min(2*wait, 50*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s: it never came", time.Since(start).Round(time.Millisecond), what)
		}
		time.Sleep(wait)
	}
}

// Recv waits for a value from ch and returns it; it fails the test,
// naming what it waited for, as For does.
func Recv[T any](t testing.TB, what string, ch <-chan T) T {
	t.Helper()
	timer := time.NewTimer(time.Until(Deadline(t)))
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("waited for %s: it never came", what)
		panic("unreachable") // Fatalf does not return
	}
}

// Deadline is when a wait that starts now should give up: Timeout from
// now, or a little before the test's own deadline when that is sooner.
func Deadline(t testing.TB) time.Time { return until(t, Timeout) }

// until is d from now, or a little before the test's own deadline when
// that is sooner.
func until(t testing.TB, d time.Duration) time.Time {
	end := time.Now().Add(d)
	if dt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if at, ok := dt.Deadline(); ok {
			// Leave the test time to fail and clean up before the binary
			// is stopped.
			if early := at.Add(-time.Until(at) / 10); early.Before(end) {
				end = early
			}
		}
	}
	return end
}
