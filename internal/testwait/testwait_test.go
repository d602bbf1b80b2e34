package testwait_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/testwait"
)

func TestForReturnsOnceTheConditionHolds(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	testwait.For(t, "the third call", func() bool { return calls.Add(1) == 3 })
	if n := calls.Load(); n != 3 {
		t.Fatalf("cond was called %d times, want 3", n)
	}
}

// soonTB is a test whose deadline is near, and that records its failure
// instead of failing.
type soonTB struct {
	testing.TB
	deadline time.Time
	failure  string
}

func (s *soonTB) Helper()                     {}
func (s *soonTB) Deadline() (time.Time, bool) { return s.deadline, true }
func (s *soonTB) Fatalf(format string, args ...any) {
	s.failure = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// A condition that never holds fails the test, naming what was awaited.
func TestWaitFailsNamingWhat(t *testing.T) {
	t.Parallel()
	for name, wait := range map[string]func(testing.TB){
		"For":  func(tb testing.TB) { testwait.For(tb, "the moon", func() bool { return false }) },
		"Recv": func(tb testing.TB) { testwait.Recv(tb, "the moon", make(chan int)) },
		"Within": func(tb testing.TB) {
			testwait.Within(tb, "the moon", 50*time.Millisecond, func() bool { return false })
		},
	} {
		tb := &soonTB{TB: t, deadline: time.Now().Add(100 * time.Millisecond)}
		done := make(chan struct{})
		go func() { defer close(done); wait(tb) }()
		<-done
		if !strings.Contains(tb.failure, "the moon") {
			t.Fatalf("%s failed with %q; want it to name what it waited for", name, tb.failure)
		}
	}
}

// A wait gives up before the test's own deadline, when that comes first.
func TestDeadlineComesBeforeTheTests(t *testing.T) {
	t.Parallel()
	soon := time.Now().Add(time.Second)
	if d := testwait.Deadline(&soonTB{TB: t, deadline: soon}); !d.Before(soon) {
		t.Fatalf("deadline %s, not before the test's %s", d, soon)
	}
	late := time.Now().Add(time.Hour)
	if d := testwait.Deadline(&soonTB{TB: t, deadline: late}); d.After(time.Now().Add(testwait.Timeout)) {
		t.Fatalf("deadline %s, later than Timeout from now", d)
	}
}

func TestRecvReturnsTheValue(t *testing.T) {
	t.Parallel()
	ch := make(chan int, 1)
	ch <- 7
	if v := testwait.Recv(t, "a value", ch); v != 7 {
		t.Fatalf("got %d, want 7", v)
	}
}
