package hookgate

import (
	"time"
)

// Circuit states. A closed circuit sends; an open one holds its webhook's
// deliveries, with no attempt, until its next probe; a half-open one has
// one probe in flight and holds the rest.
const (
	CircuitClosed   = "closed"
	CircuitOpen     = "open"
	CircuitHalfOpen = "half_open"
)

// Circuit breaker defaults and bounds.
const (
	// DefaultBreakerFailures is how many consecutive failed attempts open
	// a circuit unless the webhook or its project says otherwise.
	DefaultBreakerFailures = 10
	// DefaultBreakerCooldown is the first wait of an open circuit before
	// its probe; it doubles after each failed probe, up to
	// MaxBreakerCooldown.
	DefaultBreakerCooldown = 30 * time.Second
	MaxBreakerFailures     = 1000
	MinBreakerCooldown     = time.Second
	MaxBreakerCooldown     = 10 * time.Minute
	// BreakerOff in Breaker.Failures turns the breaker off (the API's
	// failures: 0).
	BreakerOff = -1
)

// Breaker is a circuit breaker's settings at one level: a webhook's, its
// project's or the server's. A zero field takes the next level's.
type Breaker struct {
	// Failures is how many consecutive failed attempts open the circuit;
	// 0 takes the next level's; BreakerOff turns the breaker off.
	Failures int
	// Cooldown is the first wait of an open circuit before a probe; 0
	// takes the next level's.
	Cooldown time.Duration
}

// DefaultBreaker is the server's breaker.
var DefaultBreaker = Breaker{Failures: DefaultBreakerFailures, Cooldown: DefaultBreakerCooldown}

// IsZero reports whether b sets nothing.
func (b Breaker) IsZero() bool { return b.Failures == 0 && b.Cooldown == 0 }

// Off reports whether b turns the breaker off.
func (b Breaker) Off() bool { return b.Failures == BreakerOff }

// Over returns b with each field it leaves unset taken from next.
func (b Breaker) Over(next Breaker) Breaker {
	if b.Failures == 0 {
		b.Failures = next.Failures
	}
	if b.Cooldown == 0 {
		b.Cooldown = next.Cooldown
	}
	return b
}

// Validate checks b's fields, naming them param.failures and
// param.cooldown.
func (b Breaker) Validate(param string) error {
	if b.Failures != BreakerOff && (b.Failures < 0 || b.Failures > MaxBreakerFailures) {
		return InvalidParam(param+".failures", b.Failures, "%s.failures must be between 1 and %d, or 0 to turn the breaker off", param, MaxBreakerFailures)
	}
	if b.Cooldown != 0 && (b.Cooldown < MinBreakerCooldown || b.Cooldown > MaxBreakerCooldown) {
		return InvalidParam(param+".cooldown", FormatDuration(b.Cooldown), "%s.cooldown must be between %s and %s", param, FormatDuration(MinBreakerCooldown), FormatDuration(MaxBreakerCooldown))
	}
	return nil
}

// ParseBreakerCooldown reads a cooldown such as "30s", naming param.
func ParseBreakerCooldown(param, s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, InvalidParam(param, s, "%s is not a duration such as 30s or 2m", param)
	}
	if d < MinBreakerCooldown || d > MaxBreakerCooldown {
		return 0, InvalidParam(param, s, "%s must be between %s and %s", param, FormatDuration(MinBreakerCooldown), FormatDuration(MaxBreakerCooldown))
	}
	return d, nil
}

// Circuit is the state of one webhook's breaker: one fact for every node
// sharing the store.
type Circuit struct {
	ProjectID, WebhookID string
	State                string
	// Since is when State was entered.
	Since time.Time
	// OpenedAt is when the circuit last left closed; zero while it has
	// never opened.
	OpenedAt time.Time
	// Failures counts the consecutive failed attempts.
	Failures int
	// Cooldown is the wait of the current opening (it doubles after each
	// failed probe); NextProbeAt is when an open circuit may send its probe.
	Cooldown    time.Duration
	NextProbeAt time.Time
	// Probe names the probe in flight of a half-open circuit, held until
	// ProbeUntil (the end of the probe's lease: its request ends before).
	Probe      string
	ProbeUntil time.Time
	UpdatedAt  time.Time
}

// Clean reports whether c is closed with no failure counted: the state of
// every webhook without a row.
func (c *Circuit) Clean() bool {
	return (c.State == CircuitClosed || c.State == "") && c.Failures == 0
}

// Probe results.
const (
	// ProbeSucceeded closes the circuit; ProbeFailed opens it again for
	// twice the cooldown; ProbeReturned (the probe's delivery was given
	// back unsent) lets another probe go at once.
	ProbeSucceeded = "succeeded"
	ProbeFailed    = "failed"
	ProbeReturned  = "returned"
)

// CircuitReport is what one recorded batch of outcomes tells of one
// webhook's attempts, for its circuit.
type CircuitReport struct {
	ProjectID, WebhookID string
	// Breaker is the breaker in force for the webhook, every field set.
	Breaker Breaker
	// Succeeded is set when an attempt other than a probe succeeded;
	// Failures counts the failed attempts after the last success.
	Succeeded bool
	Failures  int
	// Probe and ProbeResult report the outcome of the probe Probe names.
	Probe, ProbeResult string
	// LastStatusCode and LastError are those of the latest failed attempt.
	LastStatusCode int
	LastError      string
}

// Circuit transitions that operational events announce.
const (
	TransitionOpened = "opened"
	TransitionClosed = "closed"
)

// Record returns c after the attempts r reports, at now, and the
// transition it made: TransitionOpened (closed to open), TransitionClosed
// (to closed, by a successful probe or the breaker turned off) or "".
// Only a successful probe closes an open circuit; a failed one opens it
// again for twice the cooldown, up to MaxBreakerCooldown. The outcome of a
// probe that is no longer the circuit's counts as any attempt's.
func (c Circuit) Record(r CircuitReport, now time.Time) (Circuit, string) {
	if c.State == "" {
		c.State = CircuitClosed
	}
	was := c.State
	switch {
	case r.Breaker.Off():
		if c.State != CircuitClosed {
			c = c.closed(now)
		}
		c.Failures = 0
	case r.Probe != "" && c.State == CircuitHalfOpen && c.Probe == r.Probe:
		switch r.ProbeResult {
		case ProbeSucceeded:
			c = c.closed(now)
		case ProbeFailed:
			c.State, c.Since, c.Probe, c.ProbeUntil = CircuitOpen, now, "", time.Time{}
			base := c.Cooldown
			if base == 0 {
				base = r.Breaker.Cooldown
			}
			c.Cooldown = min(2*base, MaxBreakerCooldown)
			c.NextProbeAt = now.Add(c.Cooldown)
			c.Failures += max(r.Failures, 1)
		default: // returned unsent: another may go at once
			c.State, c.Since, c.Probe, c.ProbeUntil, c.NextProbeAt = CircuitOpen, now, "", time.Time{}, now
		}
	case c.State == CircuitClosed:
		if r.Succeeded {
			c.Failures = 0
		}
		c.Failures += r.Failures
		if c.Failures >= r.Breaker.Failures && r.Breaker.Failures > 0 {
			c.State, c.Since, c.OpenedAt = CircuitOpen, now, now
			c.Cooldown = r.Breaker.Cooldown
			c.NextProbeAt = now.Add(c.Cooldown)
		}
	default:
		// Requests in flight when it opened: their failures count, their
		// successes do not close it (only the probe does).
		c.Failures += r.Failures
	}
	c.UpdatedAt = now
	switch {
	case was == CircuitClosed && c.State == CircuitOpen:
		return c, TransitionOpened
	case was != CircuitClosed && c.State == CircuitClosed:
		return c, TransitionClosed
	}
	return c, ""
}

// closed is c closed at now.
func (c Circuit) closed(now time.Time) Circuit {
	c.State, c.Since, c.Failures, c.Cooldown = CircuitClosed, now, 0, 0
	c.NextProbeAt, c.Probe, c.ProbeUntil = time.Time{}, "", time.Time{}
	return c
}

// TakeProbe returns c half-open with probe in flight until until, when at
// now c may send a probe: it is open and its cooldown is over, or
// half-open with a probe whose lease ended unrecorded.
func (c Circuit) TakeProbe(probe string, now, until time.Time) (Circuit, bool) {
	switch {
	case c.State == CircuitOpen && !now.Before(c.NextProbeAt):
		c.Since = now
	case c.State == CircuitHalfOpen && !now.Before(c.ProbeUntil):
	default:
		return c, false
	}
	c.State, c.Probe, c.ProbeUntil, c.UpdatedAt = CircuitHalfOpen, probe, until, now
	return c, true
}

// Holds reports whether c holds its webhook's deliveries at now, and until
// when a held one should wait: an open circuit until its probe is due, a
// half-open one until its probe's lease ends. At or past that time a held
// delivery may become the probe (TakeProbe).
func (c *Circuit) Holds(now time.Time) (time.Time, bool) {
	switch c.State {
	case CircuitOpen:
		return maxTime(c.NextProbeAt, now), true
	case CircuitHalfOpen:
		return maxTime(c.ProbeUntil, now), true
	}
	return time.Time{}, false
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// CircuitChange is a circuit after a report, with the transition the
// report made ("" for none).
type CircuitChange struct {
	Circuit    Circuit
	Transition string
}
