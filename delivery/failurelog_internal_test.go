package delivery

import (
	"testing"
	"time"
)

// Issue 22, item 14: the failure log's pace, on an injected clock: a
// summary every interval however few the failures, a flapping webhook
// bounded like a dead one, and the summaries due at a stop.
func TestFailureLogPace(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }

	t.Run("interval", func(t *testing.T) {
		t.Parallel()
		l := newFailureLog(1000, time.Minute)
		if line, _ := l.failed("wh", "p", false, 500, "", at(0)); line != lineFirst {
			t.Fatalf("first failure: %v", line)
		}
		// One failure a second: a summary once a minute, naming 60.
		lines := 0
		for i := 1; i <= 180; i++ {
			line, s := l.failed("wh", "p", i == 180, 500, "boom", at(time.Duration(i)*time.Second))
			if line == lineNone {
				continue
			}
			lines++
			if line != lineSummary || s.failures != 60 || s.streak != i+1 || !s.failing || s.lastError != "boom" {
				t.Fatalf("failure %d: line %v, %+v", i, line, s)
			}
			if i == 180 && s.final != 1 {
				t.Fatalf("the summary at 180 s should count the delivery failed for good: %+v", s)
			}
		}
		if lines != 3 {
			t.Fatalf("%d summaries in 3 minutes, want 3", lines)
		}
		if line, s := l.succeeded("wh", at(181*time.Second)); line != lineRecovered || s.streak != 181 || s.failures != 0 {
			t.Fatalf("recovery: %v %+v", line, s)
		}
	})

	t.Run("flapping", func(t *testing.T) {
		t.Parallel()
		l := newFailureLog(1<<30, time.Minute)
		// A failure and a success every 10 ms for 30 s: a dead webhook's
		// first line and recovery, then nothing until the minute's summary.
		lines := map[logLine]int{}
		for i := range 3000 {
			line, _ := l.failed("wh", "p", false, 503, "", at(time.Duration(i)*10*time.Millisecond))
			lines[line]++
			line, _ = l.succeeded("wh", at(time.Duration(i)*10*time.Millisecond+5*time.Millisecond))
			lines[line]++
		}
		if lines[lineFirst] != 1 || lines[lineRecovered] != 1 || lines[lineSummary] != 0 {
			t.Fatalf("lines while flapping: %v", lines)
		}
		if got := l.due(at(30*time.Second), false, time.Hour); len(got) != 0 {
			t.Fatalf("a summary before the minute: %+v", got)
		}
		got := l.due(at(61*time.Second), false, time.Hour)
		if len(got) != 1 || got[0].failures != 2999 || got[0].successes != 2999 || got[0].failing {
			t.Fatalf("the minute's summary: %+v", got)
		}
	})

	t.Run("stop and forget", func(t *testing.T) {
		t.Parallel()
		l := newFailureLog(1000, time.Minute)
		l.failed("a", "p", false, 500, "", at(0))
		l.failed("a", "p", false, 500, "", at(time.Second))
		l.failed("b", "p", false, 500, "", at(0))
		got := l.due(at(2*time.Second), true, time.Hour)
		if len(got) != 1 || got[0].webhook != "a" || got[0].failures != 1 {
			t.Fatalf("at a stop, the unsaid failures: %+v", got)
		}
		l.due(at(2*time.Hour), false, time.Hour)
		if len(l.by) != 0 {
			t.Fatalf("webhooks idle for an hour are kept: %d", len(l.by))
		}
		// Forgotten, a webhook's next failure is a first one again.
		if line, _ := l.failed("a", "p", false, 500, "", at(3*time.Hour)); line != lineFirst {
			t.Fatalf("after forgetting: %v", line)
		}
	})
}
