package hookgate_test

import (
	"testing"
	"time"

	"github.com/hookgate/hookgate"
)

func fixed(v float64) func() float64 { return func() float64 { return v } }

func TestNextDelay(t *testing.T) {
	t.Parallel()
	s := hookgate.DefaultSchedule
	for _, tc := range []struct {
		attempts int
		rnd      float64
		want     time.Duration
		ok       bool
	}{
		{1, 0.5, 5 * time.Second, true},
		{1, 0, 4 * time.Second, true},                             // -20 %
		{1, 1, 6 * time.Second, true},                             // +20 % (the limit, never reached)
		{2, 0.5, 5 * time.Minute, true},                           //
		{4, 0.25, 108 * time.Minute, true},                        // 2h -10 %
		{7, 0.5, 10 * time.Hour, true},                            // the last retry
		{8, 0.5, 0, false},                                        // exhausted
		{0, 0.5, 0, false},                                        // no attempt yet
		{3, 0.75, 33 * time.Minute, true},                         // 30m +10 %
		{5, 0.5, 5 * time.Hour, true},                             //
		{6, 0.125, time.Duration(8.5 * float64(time.Hour)), true}, // 10h -15 %
	} {
		got, ok := s.NextDelay(tc.attempts, fixed(tc.rnd))
		if ok != tc.ok || got.Round(time.Millisecond) != tc.want {
			t.Errorf("NextDelay(%d, %v) = %v, %v; want %v, %v", tc.attempts, tc.rnd, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseSchedule(t *testing.T) {
	t.Parallel()
	s, err := hookgate.ParseSchedule("5s, 5m,30m,2h,5h,10h,10h")
	if err != nil || s.String() != hookgate.DefaultSchedule.String() {
		t.Fatalf("ParseSchedule = %v, %v", s, err)
	}
	for _, bad := range []string{"5", "5s,x", "500ms", "200h"} {
		if _, err := hookgate.ParseSchedule(bad); err == nil {
			t.Errorf("ParseSchedule(%q) accepted", bad)
		}
	}
}
