package delivery

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate"
)

// Recovery probes: a webhook Hookgate disabled (410, or failing for
// DisableAfter) is sent a signed hookgate.ping at each step of
// RecoverySchedule until one is answered 2xx, which enables it again and
// queues its paused deliveries, or 410, which stops the probing, or
// RecoveryFor has passed since the disabling. The store keeps each
// recovery's next probe; a node takes a step with a compare-and-set on
// it (Queue.ClaimProbe), so that one node alone probes each step.

// probeBatch bounds the recoveries read at once, and maxProbes the probes
// in flight from one node.
const (
	probeBatch = 64
	maxProbes  = 8
)

// probeLoop probes the recoveries due every ProbePoll until ctx ends,
// then waits for the probes in flight.
func (d *Dispatcher) probeLoop(ctx context.Context) {
	var running sync.WaitGroup
	defer running.Wait()
	slots := make(chan struct{}, maxProbes)
	t := time.NewTicker(d.cfg.ProbePoll)
	defer t.Stop()
	for {
		d.probeDue(ctx, slots, &running)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// probeDue claims the steps due now and probes each in a goroutine of its
// own, at most maxProbes at once.
func (d *Dispatcher) probeDue(ctx context.Context, slots chan struct{}, running *sync.WaitGroup) {
	now := d.cfg.Now()
	sched := d.cfg.RecoverySchedule
	due, err := d.cfg.Queue.DueRecoveries(ctx, now, sched[0], d.cfg.RecoveryFor, probeBatch)
	if err != nil {
		if ctx.Err() == nil {
			d.cfg.Logger.Error("read the recovery probes due", "err", err)
		}
		return
	}
	for _, r := range due {
		n := r.Probes + 1
		// Each wait counts from the probe before: a node that was down
		// makes one probe for the steps it missed, not one per step.
		ok, err := d.cfg.Queue.ClaimProbe(ctx, r, now.Add(sched.NextProbeWait(n)), now)
		if err != nil {
			if ctx.Err() == nil {
				d.cfg.Logger.Error("claim a recovery probe", "project", r.ProjectID, "webhook", r.WebhookID, "err", err)
			}
			continue
		}
		if !ok {
			continue // another node took this step
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		running.Add(1)
		go func() {
			defer func() { <-slots; running.Done() }()
			d.probe(context.WithoutCancel(ctx), r, n)
		}()
	}
}

// probe makes probe n of recovery r and acts on its answer.
func (d *Dispatcher) probe(ctx context.Context, r *hookgate.Recovery, n int) {
	log := d.cfg.Logger.With("project", r.ProjectID, "webhook", r.WebhookID, "probe", n)
	w, err := d.cfg.Queue.FindWebhook(ctx, r.ProjectID, r.WebhookID)
	if hookgate.ErrorCode(err) == hookgate.ENotFound {
		return // deleted since the step was read
	}
	if err != nil {
		log.Error("recovery probe not made: the webhook cannot be read", "err", err)
		return
	}
	if w.Status != hookgate.StatusDisabled {
		return // activated, deactivated or deleted since the step was read
	}
	now := d.cfg.Now()
	data, _ := json.Marshal(map[string]any{"webhookId": w.ID, "probe": n, "disabledAt": r.DisabledAt.UTC()})
	if w.PayloadEncoding == hookgate.EncodingBase64 {
		// Its requests carry the bytes an event's data encodes: the ping's
		// are the envelope a JSON webhook gets.
		env, _, _ := Payload(&hookgate.Webhook{}, hookgate.DeliveryMessage{EventType: hookgate.EventPing, EventTime: now, Data: data})
		data, _ = json.Marshal(base64.StdEncoding.EncodeToString(env))
	}
	// The probe is a trace of its own: a job span, the ping event's, with
	// the attempt's under it.
	ctx, job := d.cfg.Tracer.Start(ctx, "hookgate.recovery.probe", hookgate.TraceContext{}, trace.SpanKindInternal,
		attribute.String("hookgate.project.id", w.ProjectID), attribute.String("hookgate.webhook.id", w.ID), attribute.Int("hookgate.probe", n))
	defer job.End()
	ev := &hookgate.Event{ID: hookgate.NewID(hookgate.PrefixEvent, now), ProjectID: w.ProjectID, Type: hookgate.EventPing,
		Data: data, Deliveries: 1, Trace: job.Trace, CreatedAt: now.UTC().Truncate(time.Microsecond)}
	dl := &hookgate.Delivery{ID: hookgate.DeliveryID(ev.ID, w.ID), ProjectID: w.ProjectID, EventID: ev.ID, WebhookID: w.ID,
		EventType: ev.Type, Kind: hookgate.KindProbe, Attempts: 1, CreatedAt: ev.CreatedAt}
	_, span := d.cfg.Tracer.Start(ctx, "hookgate.attempt", ev.Trace, trace.SpanKindClient,
		attribute.String("hookgate.project.id", w.ProjectID), attribute.String("hookgate.webhook.id", w.ID),
		attribute.String("hookgate.delivery.id", dl.ID), attribute.String("hookgate.event.type", ev.Type), attribute.Int("hookgate.attempt", 1))
	// A transform that fails on the ping is left out (Probe): the
	// webhook gets the envelope instead, so that it can be probed.
	msg := hookgate.DeliveryMessage{ID: dl.ID, EventID: ev.ID, EventType: ev.Type, EventTime: ev.CreatedAt, Data: ev.Data, Probe: true}
	if !d.TraceHeadersOff(ctx, w.ProjectID) {
		msg.Trace = span.Trace
	}
	var res hookgate.Outcome
	if dest, err := d.cfg.Destinations.For(w); err != nil {
		res = hookgate.Retryable(hookgate.Attempt{Error: fmt.Sprintf("not sent: this node has no destination of kind %q (every node needs the same destination kinds)", w.Destination)}, 0)
	} else {
		res = dest.Send(ctx, w, msg)
	}
	endAttemptSpan(span, res)
	a := d.attemptRecord(res, dl.ID, 1)
	a.TraceID, a.SpanID = span.Trace.TraceIDString(), span.Trace.SpanIDString()
	a.Node = d.cfg.Node
	dl.Status, dl.LastStatusCode, dl.LastError, dl.UpdatedAt = hookgate.DeliveryFailed, a.StatusCode, a.Error, d.cfg.Now()
	if res.Class == hookgate.OutcomeSuccess {
		dl.Status = hookgate.DeliverySucceeded
	}
	if err := d.cfg.Queue.SaveProbe(ctx, ev, dl, &a); err != nil {
		log.Error("record a recovery probe", "err", err)
	}
	switch {
	case res.Class == hookgate.OutcomeSuccess:
		d.probes.WithLabelValues("succeeded").Inc()
		d.recovered(ctx, log, w, n)
	case res.Disable:
		d.probes.WithLabelValues("gone").Inc()
		if err := d.cfg.Queue.StopRecovery(ctx, w.ProjectID, w.ID, hookgate.RecoveryGone); err != nil {
			log.Error("stop the recovery of a webhook that answered 410", "err", err)
			return
		}
		log.Warn("webhook recovery stopped: a probe was answered 410 Gone; the webhook stays disabled", "status", a.StatusCode)
	default:
		d.probes.WithLabelValues("failed").Inc()
		log.Info("webhook recovery probe failed; the webhook stays disabled", "status", a.StatusCode, "error", a.Error)
	}
}

// recovered enables w again after probe n succeeded, and sends the
// hookgate.webhook.recovered event.
func (d *Dispatcher) recovered(ctx context.Context, log *slog.Logger, w *hookgate.Webhook, n int) {
	now := d.cfg.Now()
	got, requeued, disabledAt, err := d.cfg.Queue.EnableRecovered(ctx, w.ProjectID, w.ID, now)
	if err != nil {
		if hookgate.ErrorCode(err) != hookgate.EConflict {
			log.Error("enable a webhook whose recovery probe succeeded", "err", err)
		}
		return
	}
	log.Info("webhook recovered: a recovery probe succeeded; the webhook is active again", "requeued", requeued)
	data, _ := json.Marshal(map[string]any{
		"webhookId": got.ID, "url": hookgate.RedactURL(got.URL), "status": got.Status, "disabledAt": disabledAt.UTC(),
		"recoveredAt": got.UpdatedAt.UTC(), "probes": n, "requeued": requeued,
	})
	if _, err := d.cfg.Queue.CreateEvents(ctx, w.ProjectID, []hookgate.EventInput{{Type: hookgate.EventWebhookRecovered, Data: data}}); err != nil {
		log.Error("send operational event", "type", hookgate.EventWebhookRecovered, "err", err)
	}
	d.Wake()
}
