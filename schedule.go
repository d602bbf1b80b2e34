package hookgate

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Schedule lists the waits before each retry: Schedule[0] after the first
// attempt failed, and so on. It is the one home of the retry policy: the
// server's default, HOOKGATE_RETRY_SCHEDULE, a project's own schedule and
// the dispatcher's next attempt all use it.
type Schedule []time.Duration

// DefaultSchedule is the wait before each retry after the first attempt:
// 5s, 5m, 30m, 2h, 5h, 10h, 10h, so 8 attempts over about 27.6 hours.
var DefaultSchedule = Schedule{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// Jitter is the fraction by which each wait is varied at random, either way,
// so that deliveries failed together do not retry together.
const Jitter = 0.2

// Bounds of a retry schedule.
const (
	MinRetryWait = time.Second
	MaxRetryWait = 7 * 24 * time.Hour
	MaxRetries   = 50
)

// ParseRetrySchedule reads a retry schedule given as Go durations ("5s",
// "30m", "2h"), each the wait before one more retry. param names the list in
// errors, and each wait as param[i].
func ParseRetrySchedule(param string, waits []string) (Schedule, error) {
	if len(waits) > MaxRetries {
		return nil, InvalidParam(param, len(waits), "%s has %d waits; at most %d", param, len(waits), MaxRetries)
	}
	out := make(Schedule, 0, len(waits))
	for i, w := range waits {
		name := fmt.Sprintf("%s[%d]", param, i)
		d, err := time.ParseDuration(strings.TrimSpace(w))
		if err != nil {
			return nil, InvalidParam(name, w, "%s is not a duration such as 5s, 30m or 2h", name)
		}
		if d < MinRetryWait || d > MaxRetryWait {
			return nil, InvalidParam(name, w, "%s must be between %s and %s", name, MinRetryWait, MaxRetryWait)
		}
		out = append(out, d)
	}
	return out, nil
}

// ParseSchedule reads a comma-separated list of Go durations, as String
// writes it and HOOKGATE_RETRY_SCHEDULE gives it, within the bounds of
// ParseRetrySchedule. An empty text is an empty schedule.
func ParseSchedule(s string) (Schedule, error) {
	var waits []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			waits = append(waits, f)
		}
	}
	out, err := ParseRetrySchedule("retry schedule", waits)
	if err != nil {
		var he *Error
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
		parts[i] = FormatDuration(d)
	}
	return strings.Join(parts, ",")
}

// Strings returns the waits as ParseRetrySchedule reads them.
func (s Schedule) Strings() []string {
	out := make([]string, len(s))
	for i, d := range s {
		out[i] = FormatDuration(d)
	}
	return out
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

// FormatDuration writes d as ParseRetrySchedule reads it, without zero
// units: "5s", "30m", "2h", "1h30m".
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
