package delivery

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/hookgate/hookgate"
)

// deliver makes one attempt for j and returns its outcome.
func (d *Dispatcher) deliver(ctx context.Context, j job) outcome {
	dl, w := j.dl, j.w
	var o outcome
	out := &o.AttemptOutcome
	*out = hookgate.AttemptOutcome{ProjectID: dl.ProjectID, WebhookID: dl.WebhookID, LeaseUntil: j.lease, Attempt: hookgate.Attempt{DeliveryID: dl.ID}}
	ev := j.ev
	if ev == nil || ev.Data == nil {
		var err error
		if ev, err = d.cfg.Queue.FindEvent(ctx, dl.ProjectID, dl.EventID); err != nil {
			return release(j, d.cfg.Now().Add(5*time.Second)) // try again later, no attempt counted
		}
	}
	if j.pace != nil {
		if err := j.pace.Wait(ctx); err != nil {
			return release(j, d.cfg.Now()) // stopping
		}
	}
	res := d.cfg.Sender.Send(ctx, w, Message{ID: dl.ID, EventType: ev.Type, EventTime: ev.CreatedAt, Data: ev.Data})
	n := dl.Attempts + 1
	out.Attempt = res.Attempt(dl.ID, n)
	if res.Err != nil {
		// The full cause, for the operator's log; the attempt keeps what a
		// tenant may see.
		o.cause = strings.ReplaceAll(res.Err.Error(), res.URL, out.Attempt.RequestURL)
	}
	switch {
	case res.OK():
		out.Status = hookgate.DeliverySucceeded
		return o
	case res.StatusCode == http.StatusGone:
		out.Status, o.disable = hookgate.DeliveryFailed, w
		return o
	}
	wait, ok := d.schedule(ctx, dl.ProjectID).NextDelay(n, d.cfg.Rand)
	if res.Err != nil && res.Method == "" {
		// No request could be built (data that is not base64 for a
		// base64 webhook, say): no retry will ever build one.
		ok, o.unsendable = false, true
	}
	if !ok {
		out.Status = hookgate.DeliveryFailed
		if !hookgate.IsOperational(dl.EventType) { // no event about an operational event: no loops
			x := *dl
			x.Attempts = n
			o.exhausted = &x
		}
		return o
	}
	if ra, ok := RetryAfter(res.StatusCode, res.Header, d.cfg.Now()); ok && ra > wait {
		wait = ra
	}
	out.Status, out.NextAttemptAt = hookgate.DeliveryPending, d.cfg.Now().Add(wait)
	return o
}

// schedule returns the retry schedule of a project: its own, or the
// server's. Projects are read again after 10 seconds.
func (d *Dispatcher) schedule(ctx context.Context, projectID string) hookgate.Schedule {
	now := d.cfg.Now()
	d.projMu.Lock()
	c, ok := d.projects[projectID]
	d.projMu.Unlock()
	if ok && now.Sub(c.at) < 10*time.Second {
		return c.s
	}
	p, err := d.cfg.Queue.FindProject(ctx, projectID)
	if err != nil {
		if ok {
			return c.s
		}
		return d.cfg.Schedule
	}
	s := d.cfg.Schedule
	if len(p.RetrySchedule) > 0 {
		s = p.RetrySchedule
	}
	d.projMu.Lock()
	d.projects[projectID] = cachedSchedule{s: s, at: now}
	d.projMu.Unlock()
	return s
}

// cachedSchedule is a project's retry schedule and when it was read.
type cachedSchedule struct {
	s  hookgate.Schedule
	at time.Time
}
