package delivery

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/tracing"
)

// deliver makes one attempt for j and returns its outcome.
func (d *Dispatcher) deliver(ctx context.Context, j job) outcome {
	dl, w := j.dl, j.w
	var o outcome
	out := &o.AttemptOutcome
	*out = outcomeOf(dl, j.lease)
	out.WebhookID = dl.WebhookID
	ev := j.ev
	if ev == nil || ev.Data == nil {
		var err error
		if ev, err = d.cfg.Queue.FindEvent(ctx, dl.ProjectID, dl.EventID); err != nil {
			return release(j, d.cfg.Now().Add(5*time.Second)) // try again later, no attempt counted
		}
	}
	if j.pace != nil {
		if err := awaitTurn(ctx, j.pace.ReserveN(d.cfg.Now(), 1), d.cfg.Now); err != nil {
			return release(j, d.cfg.Now()) // stopping
		}
	}
	if j.dest == nil {
		// The webhook's kind is not registered on this node: as with
		// secrets that do not open here, the attempt fails without a
		// request and is retried on the schedule (a node that has the
		// kind may take the retry).
		return d.unsent(ctx, j, d.cfg.Now(), fmt.Sprintf("not sent: this node has no destination of kind %q (every node needs the same destination kinds)", j.w.Destination))
	}
	n := dl.Attempts + 1
	parent := ev.Trace
	if parent.IsZero() {
		parent = hookgate.TraceOfEvent(ev.ID)
	}
	_, span := d.cfg.Tracer.Start(ctx, "hookgate.attempt", parent, trace.SpanKindClient,
		attribute.String("hookgate.project.id", dl.ProjectID), attribute.String("hookgate.webhook.id", dl.WebhookID),
		attribute.String("hookgate.delivery.id", dl.ID), attribute.String("hookgate.event.type", ev.Type), attribute.Int("hookgate.attempt", n))
	msg := hookgate.DeliveryMessage{ID: dl.ID, EventID: ev.ID, EventType: ev.Type, EventTime: ev.CreatedAt, Data: ev.Data}
	if !d.TraceHeadersOff(ctx, dl.ProjectID) {
		msg.Trace = span.Trace
	}
	res := j.dest.Send(ctx, w, msg)
	endAttemptSpan(span, res)
	if res.Class != hookgate.OutcomeSuccess && ctx.Err() != nil && d.abandoning.Load() {
		// Cut short by Abandon: no fault of the receiver's. The row goes
		// back due at once, no attempt counted; the receiver may have had
		// the request, so it may get it twice.
		o := release(j, d.cfg.Now())
		o.abandoned = true
		return o
	}
	out.Attempt = d.attemptRecord(res, dl.ID, n)
	out.Attempt.TraceID, out.Attempt.SpanID = span.Trace.TraceIDString(), span.Trace.SpanIDString()
	o.cause = res.Cause
	switch res.Class {
	case hookgate.OutcomeSuccess:
		out.Status = hookgate.DeliverySucceeded
		return o
	case hookgate.OutcomePermanent:
		o.reason = res.Reason
		if res.Disable {
			// The webhook is disabled, which says why; no exhausted event.
			out.Status, o.disable = hookgate.DeliveryFailed, w
			return o
		}
	}
	ra := time.Duration(0)
	if res.RetryAfter > 0 {
		ra = min(max(res.RetryAfter, hookgate.MinRetryAfter), hookgate.MaxRetryAfter)
	}
	d.retryOrFail(ctx, &o, w, dl, n, res.Class == hookgate.OutcomePermanent, ra)
	return o
}

// attemptRecord completes the destination's record of attempt n of
// delivery id: its IDs and number, and its start time when the
// destination left it out.
func (d *Dispatcher) attemptRecord(res hookgate.Outcome, id string, n int) hookgate.Attempt {
	a := res.Attempt
	if a.StartedAt.IsZero() {
		a.StartedAt = d.cfg.Now()
	}
	if a.ID == "" {
		a.ID = hookgate.NewID(hookgate.PrefixAttempt, a.StartedAt)
	}
	a.DeliveryID, a.Attempt = id, n
	return a
}

// retryOrFail settles o, the failed attempt n of dl to w: pending until
// the next attempt of its schedule (or later, until retryAfter), or failed
// when the schedule is exhausted, w's maxAttempts are spent, or no retry
// can do better (final).
func (d *Dispatcher) retryOrFail(ctx context.Context, o *outcome, w *hookgate.Webhook, dl *hookgate.Delivery, n int, final bool, retryAfter time.Duration) {
	sched := d.webhookSchedule(ctx, w, dl.ProjectID)
	wait, ok := sched.NextDelay(n, d.cfg.Rand)
	if w != nil && w.MaxAttempts > 0 && n >= w.MaxAttempts {
		ok = false
	}
	if !ok || final {
		o.Status = hookgate.DeliveryFailed
		if !hookgate.IsOperational(dl.EventType) { // no event about an operational event: no loops
			x := *dl
			x.Attempts = n
			o.exhausted = &x
		}
		return
	}
	o.Status, o.NextAttemptAt = hookgate.DeliveryPending, d.cfg.Now().Add(max(wait, retryAfter))
}

// errUnopenable is the error of an attempt not made because its
// webhook's secrets do not open with this node's encryption key.
const errUnopenable = "not sent: the webhook's secrets could not be decrypted with this node's encryption key (every node needs the same HOOKGATE_ENCRYPTION_KEY)"

// unopenable fails an attempt of j without a request: its webhook's
// sealed secrets do not open with this node's key, so it cannot be
// signed. The attempt is recorded with errUnopenable and retried on the
// schedule like any failure (a node with the right key may take the
// retry); it fails for good when the schedule is exhausted. It never
// waits unrecorded.
func (d *Dispatcher) unopenable(ctx context.Context, j job, now time.Time) outcome {
	d.unopened.Inc()
	return d.unsent(ctx, j, now, errUnopenable)
}

// unsent fails an attempt of j made without a request, recorded with
// reason as its error, and retries it on the schedule.
func (d *Dispatcher) unsent(ctx context.Context, j job, now time.Time, reason string) outcome {
	dl := j.dl
	n := dl.Attempts + 1
	o := outcome{AttemptOutcome: outcomeOf(dl, j.lease)}
	o.WebhookID = dl.WebhookID
	o.Attempt = hookgate.Attempt{ID: hookgate.NewID(hookgate.PrefixAttempt, now), DeliveryID: dl.ID, Attempt: n, StartedAt: now, Error: reason}
	o.unsent = true
	d.retryOrFail(ctx, &o, j.w, dl, n, false, 0)
	return o
}

// webhookSchedule returns the retry schedule of w: its own, else its
// project's, else the server's.
func (d *Dispatcher) webhookSchedule(ctx context.Context, w *hookgate.Webhook, projectID string) hookgate.Schedule {
	if w != nil && len(w.RetrySchedule) > 0 {
		return w.RetrySchedule
	}
	return d.schedule(ctx, projectID)
}

// schedule returns the retry schedule of a project: its own, or the
// server's.
func (d *Dispatcher) schedule(ctx context.Context, projectID string) hookgate.Schedule {
	return d.project(ctx, projectID).s
}

// project returns the settings of a project that rule its deliveries.
// Projects are read again after 10 seconds.
func (d *Dispatcher) project(ctx context.Context, projectID string) cachedProject {
	now := d.cfg.Now()
	d.projMu.Lock()
	c, ok := d.projects[projectID]
	d.projMu.Unlock()
	if ok && now.Sub(c.at) < 10*time.Second {
		return c
	}
	p, err := d.cfg.Queue.FindProject(ctx, projectID)
	if err != nil {
		if ok {
			return c
		}
		return cachedProject{s: d.cfg.Schedule, breaker: d.cfg.Breaker}
	}
	c = cachedProject{s: d.cfg.Schedule, breaker: p.Breaker.Over(d.cfg.Breaker), traceOff: p.TraceHeadersOff, at: now}
	if len(p.RetrySchedule) > 0 {
		c.s = p.RetrySchedule
	}
	d.projMu.Lock()
	d.projects[projectID] = c
	d.projMu.Unlock()
	return c
}

// TraceHeadersOff reports whether a project sends its receivers no trace
// headers, as its cached settings say.
func (d *Dispatcher) TraceHeadersOff(ctx context.Context, projectID string) bool {
	return d.project(ctx, projectID).traceOff
}

// cachedProject is a project's retry schedule and circuit breaker, over
// the server's, whether it sends no trace headers, and when they were
// read.
type cachedProject struct {
	s        hookgate.Schedule
	breaker  hookgate.Breaker
	traceOff bool
	at       time.Time
}

// endAttemptSpan ends an attempt's span with what the attempt came to: the
// status code, the outcome's class, and a failure's short reason (never a
// body, a URL or a secret).
func endAttemptSpan(span tracing.Span, res hookgate.Outcome) {
	if span.Recording() {
		span.SetAttributes(attribute.Int("http.response.status_code", res.Attempt.StatusCode),
			attribute.String("hookgate.outcome", outcomeName(res.Class)), attribute.Int64("hookgate.attempt.duration_ms", res.Attempt.DurationMs))
		if res.Class != hookgate.OutcomeSuccess {
			reason := res.Reason
			if reason == "" {
				reason = outcomeName(res.Class)
			}
			span.Fail(reason)
		}
	}
	span.End()
}

// outcomeName names an outcome class for a span.
func outcomeName(c hookgate.OutcomeClass) string {
	switch c {
	case hookgate.OutcomeSuccess:
		return "success"
	case hookgate.OutcomePermanent:
		return "permanent"
	default:
		return "retryable"
	}
}
