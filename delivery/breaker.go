package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/hookgate/hookgate"
)

// A webhook's circuit breaker is one fact in the store (hookgate.Circuit):
// the record step reports each batch's attempts of the webhooks concerned
// (Queue.RecordCircuits), which opens and closes it; an open circuit's
// probe is taken with a compare-and-set (Queue.TakeProbe), so that one node
// of the cluster sends it. This node keeps what it knows of the circuits
// that are not clean in Dispatcher.circuits: what the store answered, the
// store's circuits read at most every circuitRefresh, and its own failures
// in a row. A webhook with a clean circuit has no entry: its deliveries
// cost a map lookup, and its successes write nothing.

// circuitRefresh is how often the store's circuits are read, so that a
// node learns of circuits other nodes opened or closed, and of failures
// they counted.
const circuitRefresh = time.Second

// circuit is what this node knows of one webhook's circuit breaker.
type circuit struct {
	// Circuit is the store's, as last read or written.
	hookgate.Circuit
	// breaker is the breaker in force, as last resolved; zero until then.
	breaker hookgate.Breaker
	// run counts this node's failed attempts since its last success (or
	// since the store's circuit last left closed). Once it reaches the
	// threshold, the webhook's rows are held until heldUntil (a cooldown
	// later) without waiting for the record step to open the circuit in
	// the store: on one node, no attempt follows the one that opens it.
	run       int
	heldUntil time.Time
}

// idle reports whether c holds nothing this node needs: the store's
// circuit is clean and no failure of this node waits to be recorded.
func (c *circuit) idle() bool {
	return c.Clean() && c.run == 0 && c.heldUntil.IsZero()
}

// breakerOf returns the circuit breaker in force for w: its own settings
// over its project's over the server's.
func (d *Dispatcher) breakerOf(ctx context.Context, w *hookgate.Webhook) hookgate.Breaker {
	return w.Breaker.Over(d.project(ctx, w.ProjectID).breaker)
}

// holdLocked reports whether the circuit of webhook id holds its rows at
// now, and until when; d.mu is held. A half-open circuit holds them until
// now only: this node's view of it may be out of date (another node's
// probe may have closed it), and the claim asks the store (see gate).
func (d *Dispatcher) holdLocked(id string, now time.Time) (time.Time, bool) {
	c := d.circuits[id]
	if c == nil || c.breaker.Off() {
		return time.Time{}, false
	}
	if c.heldUntil.After(now) {
		return c.heldUntil, true
	}
	if c.State == hookgate.CircuitHalfOpen {
		return now, true
	}
	return c.Holds(now)
}

// gate decides whether a claimed row of w, leased until lease, may be
// sent: it returns the probe's name when the row is its circuit's probe,
// or held and when the row should be due again. A held row waits in the
// store, with no attempt counted: until the probe is due while the
// circuit is open, and until the probe's lease ends while it is half-open
// (the store moves those rows once the probe's outcome is in). Before it
// holds a row, the store's circuit is asked, once per batch (read lists
// the webhooks asked already), since this node's view may be a second old
// (another node's probe may have closed it, a change of status forgotten
// it): Queue.TakeProbe takes the probe if it may, and answers the circuit
// as it is.
func (d *Dispatcher) gate(ctx context.Context, w *hookgate.Webhook, lease, now time.Time, read map[string]bool) (probe string, at time.Time, held bool) {
	d.mu.Lock()
	c := d.circuits[w.ID]
	d.mu.Unlock()
	if c == nil {
		return "", time.Time{}, false
	}
	br := d.breakerOf(ctx, w)
	d.mu.Lock()
	c.breaker = br
	if br.Off() {
		d.mu.Unlock()
		return "", time.Time{}, false
	}
	if c.heldUntil.After(now) {
		d.mu.Unlock()
		return "", c.heldUntil, true
	}
	at, held = c.Holds(now)
	ask := held && !read[w.ID]
	d.mu.Unlock()
	if !ask {
		return "", at, held
	}
	read[w.ID] = true
	probe = fmt.Sprintf("%s/%d", d.cfg.Node, d.circuitProbes.Add(1))
	got, took, err := d.cfg.Queue.TakeProbe(ctx, w.ProjectID, w.ID, probe, now, lease)
	if err != nil {
		d.cfg.Logger.Warn("take a circuit's probe; trying again in 5s", "project", w.ProjectID, "webhook", w.ID, "err", err)
		return "", now.Add(5 * time.Second), true
	}
	d.mu.Lock()
	c.Circuit = *got
	d.mu.Unlock()
	if took {
		d.cfg.Logger.Info("webhook circuit half open: sending one delivery as its probe", "project", w.ProjectID, "webhook", w.ID, "probe", probe)
		return probe, time.Time{}, false
	}
	at, held = got.Holds(now)
	return "", at, held
}

// breakerFailure reports whether an attempt made counts as a failure for
// its circuit: no answer came (a network error, a timeout), or a 5xx or a
// 429. Any other answer (a 2xx, or a 4xx, 3xx that says the receiver is up
// and answering) ends a run of failures, and a probe that gets it closes
// the circuit.
func breakerFailure(o *outcome) bool {
	c := o.Attempt.StatusCode
	if o.Status == hookgate.DeliverySucceeded {
		return false
	}
	return c == 0 || c >= 500 || c == http.StatusTooManyRequests
}

// circuitFinished keeps, for the circuit of the webhook of an attempt
// made, this node's failures in a row, and holds the webhook's rows once
// they reach the threshold. It reports whether the record step
// must report the attempt to the store: a failure, a probe, or a success
// of a webhook whose circuit is not clean. d.mu is held.
func (d *Dispatcher) circuitFinished(id string, o *outcome, now time.Time) bool {
	c := d.circuits[id]
	if !breakerFailure(o) {
		if c == nil {
			return o.probe != ""
		}
		c.run, c.heldUntil = 0, time.Time{}
		return true
	}
	if o.breaker.Off() {
		// Nothing to count; a circuit still open closes.
		return c != nil && c.State != hookgate.CircuitClosed
	}
	if c == nil {
		c = &circuit{Circuit: hookgate.Circuit{ProjectID: o.ProjectID, WebhookID: id, State: hookgate.CircuitClosed}}
		d.circuits[id] = c
	}
	c.breaker = o.breaker
	c.run++
	if br := o.breaker; !br.Off() && br.Failures > 0 && c.State == hookgate.CircuitClosed && c.run >= br.Failures && c.heldUntil.IsZero() {
		c.heldUntil = now.Add(br.Cooldown)
	}
	return true
}

// circuitReports folds a recorded batch's outcomes into one report per
// webhook, in order, and keeps each webhook's latest failed attempt.
func circuitReports(done []outcome) []hookgate.CircuitReport {
	var out []hookgate.CircuitReport
	var at map[string]int
	for _, o := range done {
		if !o.report {
			continue
		}
		if at == nil {
			at = map[string]int{}
		}
		i, ok := at[o.WebhookID]
		if !ok {
			i = len(out)
			at[o.WebhookID] = i
			out = append(out, hookgate.CircuitReport{ProjectID: o.ProjectID, WebhookID: o.WebhookID, Breaker: o.breaker})
		}
		r := &out[i]
		made := o.Attempt.ID != "" && !o.unsent
		switch {
		case o.release || !made:
			// The probe was given back unsent.
		case !breakerFailure(&o):
			r.Succeeded, r.Failures = true, 0
		default:
			r.Failures++
			r.LastStatusCode, r.LastError = o.Attempt.StatusCode, o.Attempt.Error
		}
		if o.probe != "" {
			r.Probe = o.probe
			switch {
			case o.release || !made:
				r.ProbeResult = hookgate.ProbeReturned
			case !breakerFailure(&o):
				r.ProbeResult = hookgate.ProbeSucceeded
			default:
				r.ProbeResult = hookgate.ProbeFailed
			}
		}
	}
	return out
}

// recordCircuits reports a recorded batch's attempts to the circuits of
// their webhooks, keeps what the store answers, and returns the
// operational events of the circuits that opened or closed, by project.
func (d *Dispatcher) recordCircuits(ctx context.Context, done []outcome, ops map[string][]hookgate.EventInput) {
	reports := circuitReports(done)
	if len(reports) == 0 {
		return
	}
	changes, err := d.cfg.Queue.RecordCircuits(ctx, d.cfg.Now(), reports)
	if err != nil {
		d.storeError(opCircuits)
		// The attempts are recorded; only the circuits' counts miss them.
		d.cfg.Logger.Error("record attempts in the webhooks' circuit breakers", "count", len(reports), "err", err)
		return
	}
	reported := map[string]hookgate.CircuitReport{}
	for _, r := range reports {
		reported[r.WebhookID] = r
	}
	urls := map[string]string{}
	for _, o := range done {
		if o.url != "" {
			urls[o.WebhookID] = o.url
		}
	}
	closed := false
	d.mu.Lock()
	for _, ch := range changes {
		id := ch.Circuit.WebhookID
		c := d.circuits[id]
		if c == nil {
			c = &circuit{}
			d.circuits[id] = c
		}
		c.Circuit = ch.Circuit
		if c.State != hookgate.CircuitClosed || ch.Transition != "" {
			c.run, c.heldUntil = 0, time.Time{} // the store's circuit rules now
		}
		if c.idle() {
			delete(d.circuits, id)
		}
	}
	d.mu.Unlock()
	for _, ch := range changes {
		c, r := ch.Circuit, reported[ch.Circuit.WebhookID]
		switch ch.Transition {
		case hookgate.TransitionOpened:
			d.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "webhook circuit opened: its deliveries wait, with no attempt, until a probe succeeds",
				slog.String("project", c.ProjectID), slog.String("webhook", c.WebhookID), slog.Int("consecutiveFailures", c.Failures),
				slog.Time("nextProbeAt", c.NextProbeAt.UTC()), slog.Int("lastStatus", r.LastStatusCode))
			ops[c.ProjectID] = append(ops[c.ProjectID], circuitEvent(hookgate.EventCircuitOpened, c, urls[c.WebhookID], r))
		case hookgate.TransitionClosed:
			closed = true
			d.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "webhook circuit closed: its deliveries go again",
				slog.String("project", c.ProjectID), slog.String("webhook", c.WebhookID),
				slog.String("openFor", c.Since.Sub(c.OpenedAt).Round(time.Millisecond).String()))
			ops[c.ProjectID] = append(ops[c.ProjectID], circuitEvent(hookgate.EventCircuitClosed, c, urls[c.WebhookID], r))
		}
	}
	if closed {
		d.Wake() // the rows held for the probe are due now
	}
}

// circuitEvent is the operational event saying c opened or closed.
func circuitEvent(typ string, c hookgate.Circuit, url string, r hookgate.CircuitReport) hookgate.EventInput {
	data := map[string]any{
		"webhookId": c.WebhookID, "url": hookgate.RedactURL(url), "state": c.State, "since": c.Since.UTC(),
		"openedAt": c.OpenedAt.UTC(), "consecutiveFailures": c.Failures,
	}
	if typ == hookgate.EventCircuitOpened {
		data["nextProbeAt"] = c.NextProbeAt.UTC()
		data["cooldown"] = hookgate.FormatDuration(c.Cooldown)
		data["lastStatusCode"], data["lastError"] = r.LastStatusCode, r.LastError
	} else {
		data["openFor"] = hookgate.FormatDuration(c.Since.Sub(c.OpenedAt).Round(time.Millisecond))
	}
	b, _ := json.Marshal(data)
	return hookgate.EventInput{Type: typ, Data: b}
}

// refreshCircuits reads the store's circuits that are not clean, at most
// every circuitRefresh: those other nodes opened, closed or counted
// failures of.
func (d *Dispatcher) refreshCircuits(ctx context.Context, now time.Time) {
	if now.Sub(d.circuitsRead) < circuitRefresh && !d.circuitsRead.IsZero() {
		return
	}
	d.circuitsRead = now
	cs, err := d.cfg.Queue.Circuits(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.storeError(opCircuits)
			d.cfg.Logger.Warn("read the circuit breakers", "err", err)
		}
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	seen := make(map[string]bool, len(cs))
	for _, s := range cs {
		seen[s.WebhookID] = true
		c := d.circuits[s.WebhookID]
		if c == nil {
			c = &circuit{}
			d.circuits[s.WebhookID] = c
		}
		if c.UpdatedAt.After(s.UpdatedAt) {
			continue // this node wrote a later state
		}
		c.Circuit = *s
		if c.State != hookgate.CircuitClosed {
			c.run, c.heldUntil = 0, time.Time{}
		}
	}
	for id, c := range d.circuits {
		if seen[id] || c.UpdatedAt.After(now) {
			continue
		}
		// Clean in the store: closed with no failure counted.
		c.Circuit = hookgate.Circuit{ProjectID: c.ProjectID, WebhookID: id, State: hookgate.CircuitClosed}
		if c.idle() {
			delete(d.circuits, id)
		}
	}
}
