package delivery

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/secrets"
)

// claimLoop claims due rows and hands them to their endpoints until ctx
// ends.
func (d *Dispatcher) claimLoop(ctx context.Context, results chan<- outcome) {
	var swept, summed time.Time
	for ctx.Err() == nil {
		if !d.waitRoom(ctx) {
			return
		}
		now := d.cfg.Now()
		d.refreshCircuits(ctx, now)
		d.hastenGiven(ctx, now)
		claimed, lease, err := d.cfg.Queue.ClaimDue(ctx, d.cfg.Node, now, d.cfg.BatchSize, d.cfg.Lease)
		if err != nil && ctx.Err() == nil {
			d.storeError(opClaim)
			d.cfg.Logger.Error("claim due deliveries", "err", err)
		}
		d.route(ctx, claimed, lease, nil, results)
		if now.Sub(swept) >= time.Minute {
			swept = now
			d.sweep(now)
			if n, err := d.cfg.Queue.RepairOrdering(ctx, now); err != nil && ctx.Err() == nil {
				d.storeError(opClaim)
				d.cfg.Logger.Error("repair ordered deliveries", "err", err)
			} else if n > 0 {
				d.cfg.Logger.Warn("ordered deliveries made due after a crash between their head's outcome and their own promotion", "count", n)
				continue
			}
		}
		if now.Sub(summed) >= d.cfg.FailureLogInterval/4 {
			summed = now
			d.logDueSummaries(false)
		}
		if len(claimed) == d.cfg.BatchSize {
			continue // more may be due
		}
		// Deliveries adopted at their birth are routed as they come, with
		// no claim; a wake-up or the poll brings the next claim.
		poll := time.NewTimer(d.cfg.Poll)
	wait:
		for {
			select {
			case <-ctx.Done():
				break wait
			case <-d.wake:
				break wait
			case <-poll.C:
				break wait
			case <-d.bornCh:
				d.routeBorn(ctx, results)
			}
		}
		poll.Stop()
	}
}

// bornBatch is deliveries adopted from one ingest transaction.
type bornBatch struct {
	ds     []*hookgate.Delivery
	events map[[2]string]*hookgate.Event
	until  time.Time
}

// AdoptLease implements hookgate.Adopter: deliveries are born leased to
// this node while it runs and has room in memory for them.
func (d *Dispatcher) AdoptLease() (string, time.Duration, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.running || d.stopping || d.queued+d.bornRows >= 16*d.cfg.BatchSize {
		return "", 0, false
	}
	return d.cfg.Node, d.cfg.Lease, true
}

// slowRequest is the average request time from which an endpoint's extra
// rows are born due later rather than claimed as room comes.
const slowRequest = time.Second

// AdoptDue implements hookgate.Adopter: a new delivery to webhook is
// adopted unless this node already holds a batch of rows for that webhook.
// Then, for a slow webhook (requests of a second or more on average), it is
// born unleased and due when the webhook should have room (see spill), and
// costs no write until then; for another, it is born due now, for a claim
// when there is room.
func (d *Dispatcher) AdoptDue(webhookID string, adopted int, now time.Time) (bool, time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.circuits) > 0 {
		if at, held := d.holdLocked(webhookID, now); held {
			// Its circuit is open: born unleased, due when it may send.
			return false, at
		}
	}
	held := d.bornBy[webhookID] + adopted
	e, ok := d.eps[webhookID]
	if ok {
		held += len(e.queue)
	}
	if !ok || e.avg < slowRequest {
		// An endpoint not known yet, or quick (healthy, or refusing at
		// once), has its extra rows claimed as room comes: a schedule made
		// from its speed now would hold them back once it speeds up.
		if held >= d.cfg.BatchSize {
			return false, now
		}
		return true, time.Time{}
	}
	if at, full := d.spill(e, held, now); full {
		return false, at
	}
	return true, time.Time{}
}

// Adopt implements hookgate.Adopter: the claim loop routes the deliveries
// as it would claimed ones. Once the dispatcher stops, adopted rows are
// left to Leave, which gives back every row still leased to this node.
func (d *Dispatcher) Adopt(ds []*hookgate.Delivery, events map[[2]string]*hookgate.Event, until time.Time) {
	d.mu.Lock()
	if !d.running || d.stopping {
		d.mu.Unlock()
		return
	}
	d.born = append(d.born, bornBatch{ds, events, until})
	d.bornRows += len(ds)
	if d.bornBy == nil {
		d.bornBy = map[string]int{}
	}
	for _, dl := range ds {
		d.bornBy[dl.WebhookID]++
	}
	d.mu.Unlock()
	select {
	case d.bornCh <- struct{}{}:
	default:
	}
}

// routeBorn routes the adopted batches waiting.
func (d *Dispatcher) routeBorn(ctx context.Context, results chan<- outcome) {
	d.mu.Lock()
	batches := d.born
	d.born, d.bornRows = nil, 0
	for _, b := range batches {
		for _, dl := range b.ds {
			if d.bornBy[dl.WebhookID]--; d.bornBy[dl.WebhookID] <= 0 {
				delete(d.bornBy, dl.WebhookID)
			}
		}
	}
	d.mu.Unlock()
	for _, b := range batches {
		d.route(ctx, b.ds, b.until, b.events, results)
	}
}

// waitRoom waits until fewer than a batch of the rows waiting in memory
// can be sent within a second, and fewer than 16 batches wait in all. Rows
// queued for a slow endpoint hold no claim back: a claim still brings rows
// for the others.
func (d *Dispatcher) waitRoom(ctx context.Context) bool {
	for {
		d.mu.Lock()
		soon := 0
		for _, e := range d.eps {
			q := len(e.queue)
			if r := d.rateOf(e); r > 0 {
				q = min(q, int(math.Ceil(r)))
			} else if e.active >= e.slots {
				// No request has ended yet, and every slot is taken: it may
				// be a slow endpoint; count what it is sure to take.
				q = min(q, e.slots)
			}
			soon += q
		}
		ok := soon < d.cfg.BatchSize && d.queued < 16*d.cfg.BatchSize
		d.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-d.space:
		}
	}
}

// route hands claimed rows to their endpoints' queues. Rows of deleted or
// inactive webhooks are settled at once, and rows an endpoint has no room
// for are given back. events, when nil, are read for the rows.
func (d *Dispatcher) route(ctx context.Context, claimed []*hookgate.Delivery, lease time.Time, events map[[2]string]*hookgate.Event, results chan<- outcome) {
	if len(claimed) == 0 {
		return
	}
	hooks := map[string]*hookgate.Webhook{} // nil: deleted
	sealed := map[string]bool{}             // webhooks whose secrets do not open here
	asked := map[string]bool{}              // webhooks whose circuit was read from the store
	var settled []outcome
	if events == nil {
		var err error
		events, err = d.cfg.Queue.FindEventsForDelivery(ctx, claimed)
		if err != nil && ctx.Err() == nil {
			d.cfg.Logger.Warn("read the events of claimed deliveries; each is read when sent", "err", err)
		}
	}
	now := d.cfg.Now()
	for _, dl := range claimed {
		j := job{dl: dl, lease: lease, ev: events[[2]string{dl.ProjectID, dl.EventID}]}
		if sealed[dl.WebhookID] {
			settled = append(settled, d.unopenable(ctx, j, now))
			continue
		}
		w, ok := hooks[dl.WebhookID]
		if !ok {
			var err error
			w, err = d.cfg.Queue.DeliveryWebhook(ctx, dl.ProjectID, dl.WebhookID)
			switch {
			case errors.Is(err, secrets.ErrOpen):
				// No other node may open them either: waiting in silence
				// would hold the deliveries for good. Each fails an
				// attempt, recorded, logged and counted.
				sealed[dl.WebhookID] = true
				d.cfg.Logger.Error("deliveries not sent: the webhook's secrets cannot be decrypted with this node's encryption key; every node needs the same HOOKGATE_ENCRYPTION_KEY",
					"project", dl.ProjectID, "webhook", dl.WebhookID, "err", err)
				settled = append(settled, d.unopenable(ctx, j, now))
				continue
			case err != nil && hookgate.ErrorCode(err) != hookgate.ENotFound:
				settled = append(settled, release(j, now.Add(5*time.Second))) // try again later, no attempt counted
				continue
			}
			hooks[dl.WebhookID] = w
		}
		j.w = w
		switch {
		case w == nil:
			settled = append(settled, settle(j, hookgate.DeliveryCancelled))
		case w.Status != hookgate.StatusActive:
			settled = append(settled, settle(j, hookgate.DeliveryPaused))
		default:
			probe, at, held := d.gate(ctx, w, lease, now, asked)
			if held {
				settled = append(settled, release(j, at)) // no attempt while the circuit is open
				continue
			}
			if probe != "" {
				j.probe, j.breaker = probe, d.breakerOf(ctx, w)
			}
			if o, full := d.enqueue(j, now); full {
				settled = append(settled, o)
			}
		}
	}
	for _, o := range settled {
		d.count(o)
		d.logOutcome(o)
		results <- o
	}
}
