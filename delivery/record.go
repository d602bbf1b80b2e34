package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/hookgate/hookgate"
)

// outcome is an attempt's result and what recording it entails.
type outcome struct {
	hookgate.AttemptOutcome
	// disable is the webhook to disable after a 410, once the result is
	// recorded (disabling first would pause the very delivery whose result
	// is being recorded).
	disable *hookgate.Webhook
	// release is set when the row is given back without an attempt;
	// abandoned too when Abandon cut its request short.
	release, abandoned bool
	// cause is the attempt's error as the operator may read it.
	cause string
	// reason is why a permanent failure gets no retry, as its destination
	// put it.
	reason string
	// exhausted is the delivery whose last scheduled attempt just failed.
	exhausted *hookgate.Delivery
	// report is set when the outcome goes to its webhook's circuit
	// breaker (see circuitFinished), with the breaker in force and the
	// webhook's URL; probe names the circuit's probe the delivery was.
	report  bool
	breaker hookgate.Breaker
	url     string
	probe   string
	// unsent is set on an attempt failed without a request (unsent): not
	// the receiver's doing, so its circuit does not count it.
	unsent bool
	// spilled names the webhook whose endpoint had no room for the row
	// (spill): once recorded, the release is remembered there (remember).
	spilled string
}

// release gives a claimed row back to the store, due at at, without
// counting an attempt.
func release(j job, at time.Time) outcome {
	o := settle(j, hookgate.DeliveryPending)
	o.NextAttemptAt, o.release = at, true
	return o
}

// settle moves a claimed row to status without an attempt.
func settle(j job, status string) outcome {
	o := outcome{AttemptOutcome: outcomeOf(j.dl, j.lease)}
	o.Status = status
	if j.probe != "" {
		// A probe given back unsent: its circuit lets another go.
		o.WebhookID, o.probe, o.report, o.breaker = j.dl.WebhookID, j.probe, true, j.breaker
	}
	return o
}

// outcomeOf is the outcome of claimed row dl, leased until lease, before
// anything is known of it.
func outcomeOf(dl *hookgate.Delivery, lease time.Time) hookgate.AttemptOutcome {
	o := hookgate.AttemptOutcome{ProjectID: dl.ProjectID, LeaseUntil: lease, Attempt: hookgate.Attempt{DeliveryID: dl.ID}}
	if dl.Ordered {
		o.WebhookID, o.Ordered, o.OrderingKey = dl.WebhookID, true, dl.OrderingKey
	}
	return o
}

// recordBatchSize bounds the outcomes written at once: small batches keep
// what a crash sends twice to at most one batch plus the results queue.
const recordBatchSize = 100

// recordCompany is the number of outcomes after which a batch waits no
// more for others: under load a batch fills without waiting, and a wait
// would only leave more requests sent but not recorded.
const recordCompany = 16

// record writes outcomes in batches: an outcome waits up to RecordWait for
// others, until recordCompany are there (an ordered delivery's waits for
// none); the batch then takes whatever else has arrived, up to
// recordBatchSize. Then it disables the webhooks that
// answered 410 and those failing for too long, and sends the operational
// events.
func (d *Dispatcher) record(results <-chan outcome) {
	batch := make([]hookgate.AttemptOutcome, 0, recordBatchSize)
	var done []outcome
	var lastStreakCheck time.Time
	wait := time.NewTimer(time.Hour)
	wait.Stop()
	for o := range results {
		batch, done = batch[:0], append(done[:0], o)
		// An ordered delivery's key waits for its outcome: with one in the
		// batch, it takes what has arrived and waits no more.
		hurry := o.Ordered
		wait.Reset(d.cfg.RecordWait)
	fill:
		for len(done) < recordBatchSize {
			if len(done) >= recordCompany || hurry {
				// Company enough: take what has arrived, wait no more.
				select {
				case o, ok := <-results:
					if !ok {
						break fill
					}
					done = append(done, o)
					continue
				default:
					break fill
				}
			}
			select {
			case o, ok := <-results:
				if !ok {
					break fill
				}
				done = append(done, o)
				hurry = o.Ordered
			case <-wait.C:
				break fill
			}
		}
		wait.Stop()
		for _, o := range done {
			batch = append(batch, o.AttemptOutcome)
		}
		if err := d.recordBatch(batch); err != nil {
			// The leases ran out: the deliveries are sent again, at least
			// once. The operational events wait for an outcome that is kept.
			d.cfg.Logger.Error("record attempts: given up as their leases end; they will be sent again", "count", len(batch), "err", err)
			continue
		}
		d.remember(done)
		for _, o := range batch {
			if o.FinishesHead() {
				d.Wake() // the next delivery of its key is due
				break
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		ops := map[string][]hookgate.EventInput{}
		disabled := map[string]bool{}
		for _, o := range done {
			switch {
			case o.disable != nil && !disabled[o.disable.ID]:
				disabled[o.disable.ID] = true
				w, err := d.cfg.Queue.SetWebhookStatus(ctx, o.disable.ProjectID, o.disable.ID, hookgate.StatusDisabled, d.cfg.Now())
				if err != nil {
					d.storeError(opDisable)
					d.cfg.Logger.Error("disable webhook after 410", "webhook", o.disable.ID, "err", err)
					continue
				}
				d.cfg.Logger.Error("webhook disabled: it answered 410 Gone", "project", w.ProjectID, "webhook", w.ID)
				ops[w.ProjectID] = append(ops[w.ProjectID], disabledEvent(w, "gone", o.Attempt))
			case o.exhausted != nil:
				ops[o.ProjectID] = append(ops[o.ProjectID], exhaustedEvent(o.exhausted, o.Attempt))
			}
		}
		if now := d.cfg.Now(); now.Sub(lastStreakCheck) >= min(time.Minute, d.cfg.DisableAfter/4) {
			lastStreakCheck = now
			gone, err := d.cfg.Queue.DisableFailing(ctx, now.Add(-d.cfg.DisableAfter), now)
			if err != nil {
				d.storeError(opDisable)
				d.cfg.Logger.Error("disable failing webhooks", "err", err)
			}
			for _, w := range gone {
				d.cfg.Logger.Error("webhook disabled: every attempt failed", "project", w.ProjectID, "webhook", w.ID, "for", d.cfg.DisableAfter.String())
				ops[w.ProjectID] = append(ops[w.ProjectID], disabledEvent(w, "failing", hookgate.Attempt{}))
			}
		}
		d.recordCircuits(ctx, done, ops)
		for project, in := range ops {
			if _, err := d.cfg.Queue.CreateEvents(ctx, project, in); err != nil {
				d.cfg.Logger.Error("send operational events", "project", project, "count", len(in), "err", err)
			}
		}
		if len(ops) > 0 {
			d.Wake()
		}
		cancel()
	}
}

// disabledEvent is the operational event saying Hookgate disabled w; reason
// is "gone" (it answered 410) or "failing".
func disabledEvent(w *hookgate.Webhook, reason string, last hookgate.Attempt) hookgate.EventInput {
	data, _ := json.Marshal(map[string]any{
		"webhookId": w.ID, "url": hookgate.RedactURL(w.URL), "reason": reason, "status": w.Status,
		"disabledAt": w.UpdatedAt.UTC(), "lastStatusCode": last.StatusCode,
	})
	return hookgate.EventInput{Type: hookgate.EventWebhookDisabled, Data: data}
}

// exhaustedEvent is the operational event saying dl failed its last
// scheduled attempt.
func exhaustedEvent(dl *hookgate.Delivery, last hookgate.Attempt) hookgate.EventInput {
	data, _ := json.Marshal(map[string]any{
		"deliveryId": dl.ID, "eventId": dl.EventID, "eventType": dl.EventType, "webhookId": dl.WebhookID,
		"attempts": dl.Attempts, "lastStatusCode": last.StatusCode, "lastError": last.Error,
	})
	return hookgate.EventInput{Type: hookgate.EventDeliveryExhausted, Data: data}
}

// recordBatch writes a batch of outcomes, trying again with backoff while
// the write fails (a database restart, a full disk) and the batch's
// earliest lease leaves time: a row whose outcome is lost is sent again
// when its lease ends, so giving up early costs duplicates. While it waits,
// the results channel fills and the workers stop sending.
func (d *Dispatcher) recordBatch(batch []hookgate.AttemptOutcome) error {
	deadline := time.Time{}
	for _, o := range batch {
		if deadline.IsZero() || o.LeaseUntil.Before(deadline) {
			deadline = o.LeaseUntil
		}
	}
	deadline = deadline.Add(-time.Second) // the write itself must end within the lease
	for i := range batch {
		if batch[i].Attempt.ID != "" {
			batch[i].Attempt.Node = d.cfg.Node // the node that made it
		}
	}
	wait := 100 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := d.cfg.Queue.RecordAttempts(ctx, d.cfg.Now(), batch)
		cancel()
		if err == nil {
			return nil
		}
		d.storeError(opRecord)
		if d.cfg.Now().Add(wait).After(deadline) {
			return err
		}
		d.cfg.Logger.Warn("record attempts failed; trying again", "count", len(batch), "in_ms", wait.Milliseconds(), "err", err)
		time.Sleep(wait)
		wait = min(2*wait, 5*time.Second)
	}
}

// logOutcome logs an attempt: a success at debug; a failure through the
// failure log (see failureLog), which writes the first failure of a streak
// in full (warn, or error for a delivery that failed for good), then
// summaries, then the recovery. It names the delivery and the outcome,
// never a secret, a header or a body; the attempt's error has its URL's
// credentials redacted already (Result.Attempt).
func (d *Dispatcher) logOutcome(o outcome) {
	a := &o.Attempt
	if o.release || a.ID == "" {
		return
	}
	ctx, now := context.Background(), d.cfg.Now()
	if o.Status == hookgate.DeliverySucceeded {
		if d.cfg.Logger.Enabled(ctx, slog.LevelDebug) {
			d.cfg.Logger.LogAttrs(ctx, slog.LevelDebug, "delivered", d.attemptAttrs(o)...)
		}
		if line, s := d.failures.succeeded(o.WebhookID, now); line == lineRecovered {
			d.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "webhook recovered: an attempt succeeded after a failure streak",
				slog.String("project", s.project), slog.String("webhook", s.webhook), slog.Int("streak", s.streak),
				slog.String("failingFor", now.Sub(s.since).Round(time.Millisecond).String()), slog.Int("failuresSinceLastLine", s.failures),
				slog.Int("failedForGoodSinceLastLine", s.final))
		}
		return
	}
	final := o.Status == hookgate.DeliveryFailed
	line, s := d.failures.failed(o.WebhookID, o.ProjectID, final, a.StatusCode, a.Error, now)
	switch line {
	case lineFirst:
		attrs := append(d.attemptAttrs(o), slog.String("then", fmt.Sprintf("further failures of this webhook are summed up every %d or every %s until one succeeds; each attempt is in the attempts table", d.cfg.FailureLogEvery, d.cfg.FailureLogInterval)))
		switch o.Status {
		case hookgate.DeliveryPending:
			attrs = append(attrs, slog.Time("next_attempt", o.NextAttemptAt.UTC()))
			d.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "webhook failing: delivery attempt failed; retrying", attrs...)
		case hookgate.DeliveryFailed:
			msg := "webhook failing: delivery failed for good: the retry schedule is exhausted"
			if o.reason != "" {
				msg = "webhook failing: delivery failed for good: " + o.reason
			}
			d.cfg.Logger.LogAttrs(ctx, slog.LevelError, msg, attrs...)
		}
	case lineSummary:
		d.logSummary(s, now)
	}
}

// attemptAttrs are the log attributes of one attempt.
func (d *Dispatcher) attemptAttrs(o outcome) []slog.Attr {
	a := &o.Attempt
	attrs := []slog.Attr{
		slog.String("project", o.ProjectID), slog.String("webhook", o.WebhookID), slog.String("delivery", a.DeliveryID),
		slog.Int("attempt", a.Attempt), slog.Int("status", a.StatusCode), slog.Int64("elapsed_ms", a.DurationMs),
	}
	if a.Error != "" {
		attrs = append(attrs, slog.String("error", a.Error))
	}
	if o.cause != "" && o.cause != a.Error {
		attrs = append(attrs, slog.String("cause", o.cause))
	}
	if a.TraceID != "" {
		attrs = append(attrs, slog.String("trace_id", a.TraceID), slog.String("span_id", a.SpanID))
	}
	return attrs
}

// logSummary writes a webhook's failures since its last line: at warn, or
// at error when deliveries failed for good among them.
func (d *Dispatcher) logSummary(s failureSummary, now time.Time) {
	level, msg := slog.LevelWarn, "webhook still failing"
	if !s.failing || s.successes > 0 {
		msg = "webhook failing intermittently"
	}
	if s.final > 0 {
		level = slog.LevelError
	}
	attrs := []slog.Attr{slog.String("project", s.project), slog.String("webhook", s.webhook),
		slog.Int("failures", s.failures), slog.Int("failedForGood", s.final), slog.Int("successes", s.successes)}
	if s.failing {
		attrs = append(attrs, slog.Int("streak", s.streak), slog.String("failingFor", now.Sub(s.since).Round(time.Millisecond).String()))
	}
	attrs = append(attrs, slog.Int("lastStatus", s.lastStatus))
	if s.lastError != "" {
		attrs = append(attrs, slog.String("lastError", s.lastError))
	}
	d.cfg.Logger.LogAttrs(context.Background(), level, msg, attrs...)
}

// logDueSummaries writes the summaries whose time has come, all of them
// when the dispatcher stops, and forgets webhooks idle for an hour.
func (d *Dispatcher) logDueSummaries(all bool) {
	now := d.cfg.Now()
	for _, s := range d.failures.due(now, all, time.Hour) {
		d.logSummary(s, now)
	}
}
