package delivery

import (
	"context"
	"slices"
	"time"

	"github.com/hookgate/hookgate"
)

// A row given back for lack of room (spill), or born unleased for lack of
// it (AdoptDue, a slow endpoint), is due when its endpoint should have room
// at the speed measured so far. Measured on a cold receiver, on a starved
// machine, or on a receiver still recovering, that speed is low, and the
// rows are due far ahead; once the endpoint speeds up it empties its queue
// and would wait idle for their time. So the dispatcher remembers those
// rows, and when an endpoint runs dry it makes the earliest of them due at
// once (hookgate.Queue.HastenDeliveries), for the next claim.

// maxGiven bounds the rows remembered, over all endpoints, in batches
// (about 130 bytes a row: 530 KB with the default batch): beyond that, the
// rows given back are not remembered, and come due on their schedule.
const maxGiven = 16

// remember keeps, on their endpoints, the rows of done that a spill gave
// back, now that their release is recorded: HastenDeliveries finds only
// recorded releases.
func (d *Dispatcher) remember(done []outcome) {
	if !slices.ContainsFunc(done, func(o outcome) bool { return o.spilled != "" }) {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, o := range done {
		if e, ok := d.eps[o.spilled]; ok && o.spilled != "" {
			d.keep(e, hookgate.DueRow{ProjectID: o.ProjectID, ID: o.Attempt.DeliveryID, Due: o.NextAttemptAt})
		}
	}
}

// Deferred implements hookgate.Adopter: the deliveries born due later
// because their webhook had no room (AdoptDue) are remembered as the rows
// a spill gave back are, so that if the webhook speeds up and runs dry
// they are made due then instead of at the times its former speed gave
// them. They are committed already: HastenDeliveries finds them.
func (d *Dispatcher) Deferred(rows map[string][]hookgate.DueRow) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for webhookID, rs := range rows {
		if e, ok := d.eps[webhookID]; ok {
			d.keep(e, rs...)
		}
	}
}

// keep remembers rows on e, as many as the bound over all endpoints
// (maxGiven batches) leaves room for; the others come on their schedule.
// An endpoint whose queue is empty already asks for them at once. d.mu is
// held.
func (d *Dispatcher) keep(e *endpoint, rows ...hookgate.DueRow) {
	n := min(len(rows), maxGiven*d.cfg.BatchSize-d.givenRows)
	if n <= 0 {
		return
	}
	e.given = append(e.given, rows[:n]...)
	d.givenRows += n
	if len(e.queue) == 0 {
		d.ranDry(e)
	}
}

// ranDry asks the claim loop to make due the rows e gave back, now that
// its queue is empty. It costs nothing when there are none. d.mu is held.
func (d *Dispatcher) ranDry(e *endpoint) {
	if len(e.given) == 0 || e.hasten {
		return
	}
	e.hasten = true
	d.hasten = append(d.hasten, e)
	d.Wake()
}

// hastenGiven makes due at now the rows given back by the endpoints that
// ran dry, earliest first, as many as each has room for, so that the claim
// after it brings them. It runs in the claim loop: no worker waits for
// the write. A row changed since (claimed by another node, cancelled,
// retried) is left as it is; one whose write fails comes on its schedule.
func (d *Dispatcher) hastenGiven(ctx context.Context, now time.Time) {
	d.mu.Lock()
	var rows []hookgate.DueRow
	for i, e := range d.hasten {
		e.hasten = false
		d.hasten[i] = nil
		rows = append(rows, d.takeGiven(e, now)...)
	}
	d.hasten = d.hasten[:0]
	d.mu.Unlock()
	if len(rows) == 0 {
		return
	}
	n, err := d.cfg.Queue.HastenDeliveries(ctx, now, rows)
	if err != nil {
		if ctx.Err() == nil {
			d.storeError(opClaim)
			d.cfg.Logger.Error("make due the rows given back to endpoints that ran dry; they come on their schedule", "count", len(rows), "err", err)
		}
		return
	}
	d.hastened.Add(float64(n))
}

// takeGiven takes the earliest of e's given-back rows, as many as e has
// room for, and forgets those due at now already (a claim brings them).
// None while e's circuit holds its rows: they would only go back again.
// d.mu is held.
func (d *Dispatcher) takeGiven(e *endpoint, now time.Time) []hookgate.DueRow {
	before := len(e.given)
	e.given = slices.DeleteFunc(e.given, func(r hookgate.DueRow) bool { return !r.Due.After(now) })
	d.givenRows -= before - len(e.given)
	n := min(len(e.given), d.room(e)-len(e.queue))
	if n <= 0 {
		return nil
	}
	if _, held := d.holdLocked(e.id, now); held {
		return nil
	}
	slices.SortStableFunc(e.given, func(a, b hookgate.DueRow) int { return a.Due.Compare(b.Due) })
	rows := slices.Clone(e.given[:n])
	e.given = slices.Delete(e.given, 0, n)
	d.givenRows -= n
	return rows
}
