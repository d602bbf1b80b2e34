package delivery

import (
	"context"
	"time"

	"golang.org/x/time/rate"

	"github.com/hookgate/hookgate"
)

// endpoint is one webhook's queue of claimed rows and its limits.
type endpoint struct {
	id     string
	queue  []job
	active int // requests in flight
	// slots is how many requests may be in flight (see
	// Config.PerEndpoint); wins counts successes since it last grew.
	slots, wins int
	// lim is nil when the webhook has no rateLimit. It lets rows out of
	// the queue at that rate without holding a worker; pace, at the same
	// rate, absorbs the jitter of the work between the queue and the
	// request (reading the event), so that requests never bunch up.
	lim, pace *rate.Limiter
	limit     int
	// waiting is set while the limiter's next token is not yet due; token
	// is set when that token is reserved for the head of the queue, by
	// res.
	waiting, token bool
	res            *rate.Reservation
	inReady        bool
	// avg is a moving average of request durations.
	avg time.Duration
	// freeAt is when the next row given back for lack of room is due.
	freeAt time.Time
	// given are rows a spill gave back, each with the due time it was
	// given, once their release is recorded (remember), at most maxGiven
	// batches over all endpoints (d.givenRows): when the endpoint runs
	// dry, the earliest are made due at once (hastenGiven). hasten is set
	// while it waits in d.hasten.
	given    []hookgate.DueRow
	hasten   bool
	streak   int // consecutive failed attempts
	lastUsed time.Time
}

// pacing is a destination that spaces the requests to a webhook with a
// rateLimit by a limiter of its own (HTTP's, which triggers share).
type pacing interface {
	Pace(w *hookgate.Webhook) *rate.Limiter
}

// budget is how long after its claim a row may still be started: its
// request must end within the lease, with a margin.
func (d *Dispatcher) budget() time.Duration {
	b := d.cfg.Lease - d.cfg.Destinations.Timeout()
	if b <= 0 {
		return d.cfg.Lease / 2
	}
	return b * 4 / 5
}

// rateOf estimates how many requests per second e can take: its rate limit,
// or PerEndpoint over its average request time; 0 when nothing is known.
func (d *Dispatcher) rateOf(e *endpoint) float64 {
	r := 0.0
	if e.avg > 0 {
		r = float64(e.slots) / e.avg.Seconds()
	}
	if e.limit > 0 && (r == 0 || float64(e.limit) < r) {
		r = float64(e.limit)
	}
	return r
}

// room is how many rows e may hold: no more than it can send within a
// lease at the rate measured so far, nor more than a batch. d.mu is held.
func (d *Dispatcher) room(e *endpoint) int {
	room := d.cfg.BatchSize
	if r := d.rateOf(e); r > 0 {
		room = max(1, min(room, int(r*d.budget().Seconds())))
	}
	return room
}

// spill reports whether e, holding held rows, can take no more (room), and
// then when the next row should be due: when the endpoint should have sent
// what it holds, a second from now while its speed is unknown. Call it
// with d.mu held.
func (d *Dispatcher) spill(e *endpoint, held int, now time.Time) (time.Time, bool) {
	if held < d.room(e) {
		return time.Time{}, false
	}
	r := d.rateOf(e)
	step, at := time.Duration(0), now.Add(time.Second)
	if r > 0 {
		step = time.Duration(float64(time.Second) / r)
		at = now.Add(time.Duration(held) * step)
	}
	if e.freeAt.After(at) {
		at = e.freeAt
	}
	e.freeAt = at.Add(step)
	return at, true
}

// enqueue queues j on its endpoint, or, when the endpoint already holds as
// many rows as it can send within a lease, returns the outcome that gives j
// back to the store, due when the endpoint should have room for it.
func (d *Dispatcher) enqueue(j job, now time.Time) (outcome, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	j.dest, _ = d.cfg.Destinations.For(j.w) // none: deliver records why
	e := d.endpointFor(j.w, j.dest, now)
	if at, full := d.spill(e, len(e.queue), now); full {
		o := release(j, at)
		o.spilled = e.id
		d.givenBack.Inc()
		return o, true
	}
	e.queue = append(e.queue, j)
	d.queued++
	d.makeReady(e)
	return outcome{}, false
}

// endpointFor returns w's endpoint, its rate limiter matching w's rateLimit.
// dest is w's destination, nil when its kind is not registered. d.mu is
// held.
func (d *Dispatcher) endpointFor(w *hookgate.Webhook, dest hookgate.Destination, now time.Time) *endpoint {
	e, ok := d.eps[w.ID]
	if !ok {
		e = &endpoint{id: w.ID, slots: d.cfg.PerEndpoint}
		d.eps[w.ID] = e
	}
	e.lastUsed = now
	if w.RateLimit != e.limit {
		e.limit = w.RateLimit
		switch {
		case e.limit <= 0:
			e.lim, e.token, e.res = nil, false, nil
		case e.lim == nil:
			// A burst of one spaces requests evenly: no second holds more
			// than rateLimit of them.
			e.lim = rate.NewLimiter(rate.Limit(e.limit), 1)
		default:
			e.lim.SetLimitAt(now, rate.Limit(e.limit))
		}
	}
	// A destination's own limiter (HTTP's, shared with triggers) spaces
	// the requests.
	e.pace = nil
	if p, ok := dest.(pacing); ok {
		e.pace = p.Pace(w)
	}
	return e
}

// makeReady puts e in line for a worker if it has a row it may send now.
// d.mu is held.
func (d *Dispatcher) makeReady(e *endpoint) {
	if e.inReady || e.waiting || len(e.queue) == 0 || e.active >= e.slots {
		return
	}
	e.inReady = true
	d.ready = append(d.ready, e)
	d.work.Signal()
}

// next waits for a row to send and takes it from its endpoint; it returns
// false once the dispatcher stops.
func (d *Dispatcher) next() (job, *endpoint, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for {
		if d.stopping {
			return job{}, nil, false
		}
		for len(d.ready) > 0 {
			e := d.ready[0]
			d.ready[0] = nil
			d.ready = d.ready[1:]
			e.inReady = false
			if e.waiting || len(e.queue) == 0 || e.active >= e.slots {
				continue
			}
			if e.lim != nil && !e.token {
				now := d.cfg.Now()
				r := e.lim.ReserveN(now, 1)
				if wait := r.DelayFrom(now); wait > 0 {
					// The token is the head's once due; meanwhile no
					// worker waits for this endpoint.
					e.waiting, e.token, e.res = true, true, r
					d.awaitToken(e, wait)
					continue
				}
			}
			e.token, e.res = false, nil
			j := e.queue[0]
			j.pace = e.pace
			if j.probe == "" && len(d.circuits) > 0 {
				// The circuit opened since the row was queued.
				j.holdUntil, j.held = d.holdLocked(e.id, d.cfg.Now())
			}
			e.queue[0] = job{}
			e.queue = e.queue[1:]
			e.active++
			d.queued--
			if len(e.queue) == 0 {
				d.ranDry(e)
			}
			select { // there may be room for a claim now
			case d.space <- struct{}{}:
			default:
			}
			d.makeReady(e) // to the back of the line: round robin
			return j, e, true
		}
		d.work.Wait()
	}
}

// awaitToken makes e ready once its reserved token is due: when the clock
// says so, checked each time the timer, set for wait, fires.
func (d *Dispatcher) awaitToken(e *endpoint, wait time.Duration) {
	time.AfterFunc(wait, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if e.res != nil {
			if wait := e.res.DelayFrom(d.cfg.Now()); wait > 0 {
				d.awaitToken(e, wait)
				return
			}
		}
		e.waiting = false
		d.makeReady(e)
	})
}

// worker sends rows until the dispatcher stops.
func (d *Dispatcher) worker(ctx context.Context, results chan<- outcome) {
	for {
		j, e, ok := d.next()
		if !ok {
			return
		}
		var o outcome
		switch {
		case j.held:
			o = release(j, j.holdUntil) // no attempt while the circuit is open
		case j.dest != nil && d.cfg.Now().Add(j.dest.Timeout()).After(j.lease):
			// The request could outlive the lease, and another node may
			// take the row over: never send a row whose lease is not ours
			// for the whole request. Give it back instead.
			o = release(j, d.cfg.Now())
		default:
			o = d.deliver(ctx, j)
			o.probe = j.probe
			if o.Attempt.ID != "" && breakerFailure(&o) {
				o.breaker = d.breakerOf(ctx, j.w)
			}
		}
		if report := d.finished(e, j, &o); report && !o.release || o.probe != "" {
			// To the circuit breaker: an attempt that counts, or the
			// outcome of its probe, whatever it was.
			o.report, o.url = true, j.w.URL
			if o.breaker.IsZero() {
				o.breaker = d.breakerOf(ctx, j.w)
			}
		}
		d.count(o)
		d.logOutcome(o)
		results <- o
	}
}

// finished frees e's slot and keeps its request time and failure streak,
// and the circuit's; it reports whether the attempt goes to its circuit
// breaker (circuitFinished).
func (d *Dispatcher) finished(e *endpoint, j job, o *outcome) bool {
	d.mu.Lock()
	busy := e.active >= e.slots // every slot was taken: more may be wanted
	e.active--
	made, was := o.Attempt.ID != "", e.streak
	switch {
	case o.abandoned:
		d.report.Abandoned++
	case made && d.stopping:
		d.report.Finished++
	}
	if made {
		took := time.Duration(o.Attempt.DurationMs) * time.Millisecond
		if e.avg == 0 {
			e.avg = took
		} else {
			e.avg = (4*e.avg + took) / 5
		}
		if e.avg < time.Millisecond {
			e.avg = time.Millisecond
		}
		if o.Status == hookgate.DeliverySucceeded {
			e.streak = 0
			// Additive increase while the endpoint keeps up and rows wait.
			if busy && len(e.queue) > 0 && e.slots < d.cfg.MaxPerEndpoint {
				if e.wins++; e.wins >= e.slots {
					e.slots, e.wins = e.slots+1, 0
				}
			}
		} else {
			e.streak++
			// Multiplicative decrease on a failure, a 429 or 503 included.
			e.slots, e.wins = max(d.cfg.PerEndpoint, e.slots/2), 0
		}
	}
	streak := e.streak
	e.lastUsed = d.cfg.Now()
	report := made && !o.unsent && !o.abandoned && d.circuitFinished(e.id, o, e.lastUsed)
	d.makeReady(e)
	d.mu.Unlock()
	switch {
	case was == 0 && streak > 0:
		d.failing.Inc()
	case was > 0 && streak == 0:
		d.failing.Dec()
	}
	return report
}

// sweep forgets endpoints idle for ten minutes with no failure streak.
func (d *Dispatcher) sweep(now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, e := range d.eps {
		idle := now.Sub(e.lastUsed)
		if e.active == 0 && len(e.queue) == 0 && !e.waiting && (e.streak == 0 && idle > 10*time.Minute || idle > time.Hour) {
			// An endpoint failing for an hour without an attempt is one
			// whose webhook was deleted or paused: forget its streak too.
			if e.streak > 0 {
				d.failing.Dec()
			}
			// The rows it gave back that it remembers go with it: they
			// come on their schedule.
			d.givenRows -= len(e.given)
			e.given = nil
			delete(d.eps, id)
			// What this node knows of its circuit goes too: a circuit that
			// is not clean comes back with the next read of the store's.
			delete(d.circuits, id)
		}
	}
}
