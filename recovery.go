package hookgate

import "time"

// DefaultRecoverySchedule is the wait before each recovery probe of a
// webhook Hookgate disabled: the first 5 minutes after the disabling, the
// next 30 minutes after the first, then 2 h and 6 h; the last wait repeats
// (every 12 h) until DefaultRecoveryFor after the disabling.
var DefaultRecoverySchedule = Schedule{5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour}

// DefaultRecoveryFor is how long after its disabling a webhook is probed.
const DefaultRecoveryFor = 7 * 24 * time.Hour

// Why a recovery ended without enabling the webhook (Recovery.Stopped).
const (
	// RecoveryGone: a probe was answered 410 Gone.
	RecoveryGone = "gone"
)

// Recovery is the probing of a webhook that Hookgate disabled: a signed
// hookgate.ping at each step of the recovery schedule until one is
// answered 2xx (the webhook is enabled again), one is answered 410, or
// the recovery's time is over. A webhook a person deactivated, activated
// or deleted has none.
type Recovery struct {
	WebhookID  string
	ProjectID  string
	DisabledAt time.Time
	// NextProbeAt is when the next probe is due, and EndsAt when probing
	// ends; both zero until a node scheduled the first probe.
	NextProbeAt time.Time
	EndsAt      time.Time
	// Probes counts the probes made; the latest was made at LastProbeAt
	// and answered LastStatusCode (0 when no answer came) or failed with
	// LastError.
	Probes         int
	LastProbeAt    time.Time
	LastStatusCode int
	LastError      string
	// Stopped is why probing ended early (RecoveryGone); empty otherwise.
	Stopped string
}

// NextProbeWait is the wait after probe n (1 for the first) of a recovery
// on schedule s: the schedule's n-th wait, its last one repeated once it
// runs out. The first probe comes s[0] after the disabling.
func (s Schedule) NextProbeWait(n int) time.Duration {
	if len(s) == 0 {
		return 0
	}
	return s[min(n, len(s)-1)]
}

// AutoRecoverInForce is whether a disabled webhook w of project p is
// probed, and whose setting says so: the webhook's own autoRecover, else
// the project's, else the server's (always true).
func AutoRecoverInForce(w *Webhook, p *Project) (on bool, from string) {
	switch {
	case w.AutoRecover != nil:
		return *w.AutoRecover, "webhook"
	case p != nil && p.AutoRecover != nil:
		return *p.AutoRecover, "project"
	}
	return true, "server"
}
