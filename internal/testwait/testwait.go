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
	start := time.Now()
	deadline := Deadline(t)
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
func Deadline(t testing.TB) time.Time {
	end := time.Now().Add(Timeout)
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if at, ok := d.Deadline(); ok {
			// Leave the test time to fail and clean up before the binary
			// is stopped.
			if early := at.Add(-time.Until(at) / 10); early.Before(end) {
				end = early
			}
		}
	}
	return end
}
