package hookgate

import (
	"sort"
	"time"
)

// AttemptStats sums up the attempts made in a window: of one webhook, or of
// a whole project. Triggers' attempts count with deliveries'.
type AttemptStats struct {
	Since, Until time.Time
	// Attempts is every request made; Successes those answered 2xx.
	Attempts, Successes int
	// Failures by what came back: 4xx, 5xx, another status (1xx, 3xx),
	// or no answer at all (refused, timed out, blocked: status 0).
	Failures4xx, Failures5xx, FailuresOther, FailuresNoAnswer int
	// P50Ms and P95Ms are the attempts' durations at those ranks, in ms;
	// 0 when there was none.
	P50Ms, P95Ms int64
	// LastSuccessAt is zero when no attempt succeeded in the window.
	LastSuccessAt time.Time
	// LastFailure is the window's latest failed attempt; nil when none.
	LastFailure *FailedAttempt
	// Series splits the window into intervals, oldest first, when asked.
	Series []StatsPoint
	// FilterRejected and FilterFailed count the events of the webhook's
	// types (or the project's webhooks') that a filter kept from it in the
	// window, to the minute: it answered false, or failed on the event.
	FilterRejected, FilterFailed int
}

// StatsPoint is one interval of a stats series.
type StatsPoint struct {
	At                  time.Time // the interval's start
	Attempts, Successes int
	P50Ms, P95Ms        int64
}

// FailedAttempt is an attempt that did not get a 2xx.
type FailedAttempt struct {
	At         time.Time
	DeliveryID string
	WebhookID  string
	StatusCode int
	Error      string
}

// SuccessRate is Successes over Attempts; 0 without attempts.
func (s *AttemptStats) SuccessRate() float64 {
	if s.Attempts == 0 {
		return 0
	}
	return float64(s.Successes) / float64(s.Attempts)
}

// DurationCount is how many attempts took DurationMs.
type DurationCount struct {
	DurationMs int64
	Count      int
}

// Percentiles sets P50Ms and P95Ms from the count of attempts of each
// duration (in any order): the smallest duration with at least that share
// of the attempts at or below it (nearest rank).
func (s *AttemptStats) Percentiles(hist []DurationCount) {
	sort.Slice(hist, func(i, j int) bool { return hist[i].DurationMs < hist[j].DurationMs })
	total := 0
	for _, h := range hist {
		total += h.Count
	}
	rank := func(p float64) int64 {
		need := int(p*float64(total) + 0.999999) // ceil, without float noise at exact ranks
		need = max(need, 1)
		seen := 0
		for _, h := range hist {
			seen += h.Count
			if seen >= need {
				return h.DurationMs
			}
		}
		return 0
	}
	if total == 0 {
		s.P50Ms, s.P95Ms = 0, 0
		return
	}
	s.P50Ms, s.P95Ms = rank(0.50), rank(0.95)
}
