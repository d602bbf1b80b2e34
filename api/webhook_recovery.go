package api

import (
	"context"
	"encoding/json"
	"time"

	"github.com/hookgate/hookgate"
)

// Recovery states, as a disabled webhook's read answers them.
const (
	recoveryProbing = "probing"
	recoveryGone    = "gone"
	recoveryEnded   = "ended"
	recoveryOff     = "off"
)

// recoveryOut is the recovery of a disabled webhook.
type recoveryOut struct {
	State          string     `json:"state" enum:"probing,gone,ended,off" doc:"probing: a probe is to come; gone: a probe was answered 410 and probing stopped; ended: the recovery's time is over; off: autoRecover in force is false"`
	DisabledAt     time.Time  `json:"disabledAt"`
	NextProbeAt    *time.Time `json:"nextProbeAt" doc:"When the next probe is due (a node probes it within 10 s); null when none is to come"`
	EndsAt         time.Time  `json:"endsAt" doc:"No probe is made after this time"`
	Probes         int        `json:"probes" doc:"Probes made; each is a delivery of kind probe, with its attempt"`
	LastProbeAt    *time.Time `json:"lastProbeAt" doc:"null before the first probe"`
	LastStatusCode int        `json:"lastStatusCode" doc:"What the latest probe was answered; 0 when no answer came"`
	LastError      string     `json:"lastError"`
}

// autoRecoverSetting is the autoRecover in force for a webhook.
type autoRecoverSetting struct {
	Value bool   `json:"value" doc:"Whether the webhook is probed, and enabled again, once Hookgate disabled it"`
	From  string `json:"from" enum:"webhook,project,server" doc:"The webhook's own autoRecover, else its project's, else the server's (on, unless serve runs with --recovery-for 0)"`
}

// effectiveAutoRecover is the autoRecover in force for w of project p.
func (s *Server) effectiveAutoRecover(w *hookgate.Webhook, p *hookgate.Project) autoRecoverSetting {
	if s.cfg.RecoveryFor < 0 {
		return autoRecoverSetting{Value: false, From: fromServer}
	}
	on, from := hookgate.AutoRecoverInForce(w, p)
	return autoRecoverSetting{Value: on, From: from}
}

// recoveries reads the recoveries of the disabled webhooks of ws.
func (s *Server) recoveries(ctx context.Context, ws []*hookgate.Webhook) (map[string]*hookgate.Recovery, error) {
	var ids []string
	for _, w := range ws {
		if w.Status == hookgate.StatusDisabled {
			ids = append(ids, w.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return s.store.FindRecoveries(ctx, projectID(ctx), ids)
}

// toRecovery renders the recovery r of w, disabled, whose autoRecover in
// force is on; nil when w is not disabled or has no recovery.
func (s *Server) toRecovery(w *hookgate.Webhook, r *hookgate.Recovery, on bool) *recoveryOut {
	if w.Status != hookgate.StatusDisabled || r == nil {
		return nil
	}
	next, ends := r.NextProbeAt, r.EndsAt
	if next.IsZero() { // not scheduled yet: a node does it within seconds
		next, ends = r.DisabledAt.Add(s.cfg.RecoverySchedule[0]), r.DisabledAt.Add(max(s.cfg.RecoveryFor, 0))
	}
	out := &recoveryOut{State: recoveryProbing, DisabledAt: utc(r.DisabledAt), EndsAt: utc(ends), Probes: r.Probes,
		LastStatusCode: r.LastStatusCode, LastError: r.LastError}
	if !r.LastProbeAt.IsZero() {
		t := utc(r.LastProbeAt)
		out.LastProbeAt = &t
	}
	switch {
	case !on:
		out.State = recoveryOff
	case r.Stopped == hookgate.RecoveryGone:
		out.State = recoveryGone
	case next.After(ends) || s.now().After(ends):
		out.State = recoveryEnded
	default:
		t := utc(next)
		out.NextProbeAt = &t
	}
	return out
}

// parseAutoRecover reads an autoRecover of a PATCH: true, false or null
// (nil: the project's, or the server's).
func parseAutoRecover(raw rawJSON) (*bool, error) {
	if raw.isNull() {
		return nil, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, hookgate.InvalidParam("autoRecover", string(raw), "autoRecover is true, false or null")
	}
	return &b, nil
}
