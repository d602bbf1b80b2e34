package delivery

import (
	"context"
	"math"
	"time"

	"github.com/hookgate/hookgate"
)

// claimLoop claims due rows and hands them to their endpoints until ctx
// ends.
func (d *Dispatcher) claimLoop(ctx context.Context, results chan<- outcome) {
	var swept time.Time
	for ctx.Err() == nil {
		if !d.waitRoom(ctx) {
			return
		}
		now := d.cfg.Now()
		claimed, lease, err := d.cfg.Queue.ClaimDue(ctx, d.cfg.Node, now, d.cfg.BatchSize, d.cfg.Lease)
		if err != nil && ctx.Err() == nil {
			d.cfg.Logger.Error("claim due deliveries", "err", err)
		}
		d.route(ctx, claimed, lease, results)
		if now.Sub(swept) >= time.Minute {
			swept = now
			d.sweep(now)
		}
		if len(claimed) == d.cfg.BatchSize {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
		case <-d.wake:
		case <-time.After(d.cfg.Poll):
		}
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
			} else if e.active >= d.cfg.PerEndpoint {
				// No request has ended yet, and every slot is taken: it may
				// be a slow endpoint; count what it is sure to take.
				q = min(q, d.cfg.PerEndpoint)
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
// for are given back.
func (d *Dispatcher) route(ctx context.Context, claimed []*hookgate.Delivery, lease time.Time, results chan<- outcome) {
	if len(claimed) == 0 {
		return
	}
	hooks := map[string]*hookgate.Webhook{} // nil: deleted
	var settled []outcome
	events, err := d.cfg.Queue.FindEventsForDelivery(ctx, claimed)
	if err != nil && ctx.Err() == nil {
		d.cfg.Logger.Warn("read the events of claimed deliveries; each is read when sent", "err", err)
	}
	now := d.cfg.Now()
	for _, dl := range claimed {
		j := job{dl: dl, lease: lease, ev: events[[2]string{dl.ProjectID, dl.EventID}]}
		w, ok := hooks[dl.WebhookID]
		if !ok {
			var err error
			w, err = d.cfg.Queue.FindWebhook(ctx, dl.ProjectID, dl.WebhookID)
			if err != nil && hookgate.ErrorCode(err) != hookgate.ENotFound {
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
			if o, full := d.enqueue(j, now); full {
				settled = append(settled, o)
			}
		}
	}
	for _, o := range settled {
		d.count(o)
		results <- o
	}
}
