// Package delivery sends deliveries: the retry policy, the sender and the
// dispatcher that claims due rows from the store.
package delivery

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate"
)

// DefaultSchedule is the wait before each retry after the first attempt:
// 5s, 5m, 30m, 2h, 5h, 10h, 10h, so 8 attempts over about 27.6 hours.
var DefaultSchedule = Schedule{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// Jitter is the fraction by which each wait is varied at random, either way,
// so that deliveries failed together do not retry together.
const Jitter = 0.2

// Bounds on a Retry-After that a receiver may ask for.
const (
	MinRetryAfter = time.Second
	MaxRetryAfter = 24 * time.Hour
)

// Schedule lists the waits before each retry.
type Schedule []time.Duration

// ParseSchedule parses a comma-separated list of Go durations such as the
// value of HOOKGATE_RETRY_SCHEDULE. Each wait is between 1s and 7 days; there
// are at most 50.
func ParseSchedule(s string) (Schedule, error) {
	var waits []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			waits = append(waits, f)
		}
	}
	out, err := hookgate.ParseRetrySchedule("retry schedule", waits)
	if err != nil {
		var he *hookgate.Error
		if errors.As(err, &he) {
			return nil, errors.New(he.Message)
		}
		return nil, err
	}
	return out, nil
}

// String formats the schedule as ParseSchedule reads it.
func (s Schedule) String() string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = hookgate.FormatDuration(d)
	}
	return strings.Join(parts, ",")
}

// NextDelay returns the wait after attempt number attempts (1 for the first
// attempt) failed, and false when the schedule is exhausted. rnd returns a
// value in [0, 1); it is injected so that tests are exact.
func (s Schedule) NextDelay(attempts int, rnd func() float64) (time.Duration, bool) {
	if attempts < 1 || attempts > len(s) {
		return 0, false
	}
	base := s[attempts-1]
	factor := 1 + Jitter*(2*rnd()-1)
	return time.Duration(float64(base) * factor), true
}

// RetryAfter reads a Retry-After header given with a 429 or 503 answer, in
// seconds or as an HTTP date, bounded to [MinRetryAfter, MaxRetryAfter]. It
// returns false when there is none to honour.
func RetryAfter(status int, h http.Header, now time.Time) (time.Duration, bool) {
	if status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable {
		return 0, false
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(MaxRetryAfter/time.Second) {
			secs = int64(MaxRetryAfter / time.Second)
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return 0, false
	}
	return min(max(d, MinRetryAfter), MaxRetryAfter), true
}
