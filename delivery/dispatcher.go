package delivery

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/hookgate/hookgate"
)

// Config configures a Dispatcher; Queue and Sender are required.
type Config struct {
	Queue  hookgate.Queue
	Sender *Sender
	// Schedule defaults to DefaultSchedule; a project's own schedule, when
	// it has one, takes its place for that project's deliveries.
	Schedule Schedule
	// BatchSize is how many deliveries one claim takes; default 256. No
	// more are claimed while this many waiting in memory can be sent within
	// a second.
	BatchSize int
	// Lease is how long a claim is held before another node may take the
	// rows over; default 2 minutes. It must exceed the send timeout.
	Lease time.Duration
	// PerEndpoint caps concurrent requests to one webhook; default 8.
	PerEndpoint int
	// Concurrency caps requests in flight; default 256.
	Concurrency int
	// DisableAfter disables a webhook whose every attempt has failed for
	// this long; default 5 days.
	DisableAfter time.Duration
	// Drain is how long requests in flight may go on once Run's context
	// ends; default 15 seconds.
	Drain time.Duration
	// Poll is the longest sleep between claims when nothing wakes the
	// dispatcher; default 1s.
	Poll   time.Duration
	Logger *slog.Logger
	// Registry receives the delivery metrics; default none.
	Registry prometheus.Registerer
	Now      func() time.Time
	// Rand returns values in [0, 1) for jitter; default math/rand/v2.
	Rand func() float64
}

// Dispatcher claims due deliveries, sends them and records the outcomes.
//
// Claimed rows wait in a queue per webhook (endpoint). A fixed pool of
// workers takes them round-robin from the endpoints that may send now: an
// endpoint with PerEndpoint requests in flight, or waiting for its rate
// limiter, is skipped without holding a worker, so a slow, dead or
// rate-limited endpoint costs only its own slots. An endpoint keeps no more
// rows than it can send within their lease; the rest are given back to the
// store, due when it should have room.
type Dispatcher struct {
	cfg   Config
	wake  chan struct{}
	space chan struct{}

	mu       sync.Mutex
	work     *sync.Cond // an endpoint became ready, or the dispatcher stops
	eps      map[string]*endpoint
	ready    []*endpoint
	queued   int // rows waiting in endpoint queues
	stopping bool

	projMu   sync.Mutex
	projects map[string]cachedSchedule

	outcomes *prometheus.CounterVec
	latency  prometheus.Histogram
	streaks  *prometheus.GaugeVec
}

// job is a claimed delivery with its webhook and the end of its lease.
type job struct {
	dl *hookgate.Delivery
	w  *hookgate.Webhook
	// ev is the event, read with the batch; nil, or without data when
	// large, until the worker reads it.
	ev    *hookgate.Event
	lease time.Time
	// pace, for a webhook with a rateLimit, spaces the requests themselves.
	pace *rate.Limiter
}

// endpoint is one webhook's queue of claimed rows and its limits.
type endpoint struct {
	id     string
	queue  []job
	active int // requests in flight
	// lim is nil when the webhook has no rateLimit. It lets rows out of
	// the queue at that rate without holding a worker; pace, at the same
	// rate, absorbs the jitter of the work between the queue and the
	// request (reading the event), so that requests never bunch up.
	lim, pace *rate.Limiter
	limit     int
	// waiting is set while the limiter's next token is not yet due; token
	// is set when that token is reserved for the head of the queue.
	waiting, token bool
	inReady        bool
	// avg is a moving average of request durations.
	avg time.Duration
	// freeAt is when the next row given back for lack of room is due.
	freeAt   time.Time
	streak   int // consecutive failed attempts
	lastUsed time.Time
}

type cachedSchedule struct {
	s  Schedule
	at time.Time
}

// New returns a dispatcher with cfg's defaults applied.
func New(cfg Config) *Dispatcher {
	if cfg.Schedule == nil {
		cfg.Schedule = DefaultSchedule
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 256
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.PerEndpoint <= 0 {
		cfg.PerEndpoint = 8
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 256
	}
	if cfg.DisableAfter <= 0 {
		cfg.DisableAfter = 5 * 24 * time.Hour
	}
	if cfg.Drain <= 0 {
		cfg.Drain = 15 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	d := &Dispatcher{cfg: cfg, wake: make(chan struct{}, 1), space: make(chan struct{}, 1),
		eps: map[string]*endpoint{}, projects: map[string]cachedSchedule{},
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookgate_delivery_outcomes_total",
			Help: "Delivery attempts and skips by the state they left the delivery in: succeeded, retry, failed, paused, cancelled.",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hookgate_delivery_attempt_duration_seconds", Help: "Duration of delivery requests.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15},
		}),
		streaks: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hookgate_webhook_failure_streak",
			Help: "Consecutive failed attempts to a webhook made by this node; a webhook leaves the metric on its next success.",
		}, []string{"project", "webhook"}),
	}
	d.work = sync.NewCond(&d.mu)
	if cfg.Registry != nil {
		cfg.Registry.MustRegister(d.outcomes, d.latency, d.streaks)
	}
	return d
}

// count records an outcome in the metrics.
func (d *Dispatcher) count(o outcome) {
	if o.release {
		return
	}
	label := o.Status
	if o.Status == hookgate.DeliveryPending {
		label = "retry"
	}
	d.outcomes.WithLabelValues(label).Inc()
	if o.Attempt.ID != "" {
		d.latency.Observe(float64(o.Attempt.DurationMs) / 1000)
	}
}

// Wake tells the dispatcher that deliveries may be due now. It never blocks.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run dispatches until ctx ends. Then it claims no more, gives the rows not
// yet started back to the store, lets the requests in flight finish for up
// to the drain time, records every outcome and returns. Call it once.
func (d *Dispatcher) Run(ctx context.Context) {
	sendCtx, cancelSends := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSends()
	// A short results queue holds senders back when recording lags, so that
	// few requests are ever sent but not yet recorded: after a crash those
	// are the ones sent twice.
	results := make(chan outcome, 32)
	recorded := make(chan struct{})
	go func() { d.record(results); close(recorded) }()
	var workers sync.WaitGroup
	for range d.cfg.Concurrency {
		workers.Add(1)
		go func() { defer workers.Done(); d.worker(sendCtx, results) }()
	}

	d.claimLoop(ctx, results)

	d.mu.Lock()
	d.stopping = true
	var left []job
	for _, e := range d.eps {
		left = append(left, e.queue...)
		e.queue = nil
	}
	d.queued = 0
	d.work.Broadcast()
	d.mu.Unlock()
	now := d.cfg.Now()
	for _, j := range left {
		results <- release(j, now)
	}
	drain := time.AfterFunc(d.cfg.Drain, cancelSends)
	workers.Wait()
	drain.Stop()
	close(results)
	<-recorded
}

// claimLoop claims due rows and hands them to their endpoints until ctx
// ends.
func (d *Dispatcher) claimLoop(ctx context.Context, results chan<- outcome) {
	var swept time.Time
	for ctx.Err() == nil {
		if !d.waitRoom(ctx) {
			return
		}
		now := d.cfg.Now()
		claimed, lease, err := d.cfg.Queue.ClaimDue(ctx, now, d.cfg.BatchSize, d.cfg.Lease)
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

// budget is how long after its claim a row may still be started: its
// request must end within the lease, with a margin.
func (d *Dispatcher) budget() time.Duration {
	b := d.cfg.Lease - d.cfg.Sender.Client.Timeout
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
		r = float64(d.cfg.PerEndpoint) / e.avg.Seconds()
	}
	if e.limit > 0 && (r == 0 || float64(e.limit) < r) {
		r = float64(e.limit)
	}
	return r
}

// enqueue queues j on its endpoint, or, when the endpoint already holds as
// many rows as it can send within a lease, returns the outcome that gives j
// back to the store, due when the endpoint should have room for it.
func (d *Dispatcher) enqueue(j job, now time.Time) (outcome, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e := d.endpointFor(j.w, now)
	room := d.cfg.BatchSize
	r := d.rateOf(e)
	if r > 0 {
		room = max(1, min(room, int(r*d.budget().Seconds())))
	}
	if len(e.queue) >= room {
		// Due when the endpoint should have sent what it holds; a second
		// from now while its speed is unknown.
		step, at := time.Duration(0), now.Add(time.Second)
		if r > 0 {
			step = time.Duration(float64(time.Second) / r)
			at = now.Add(time.Duration(len(e.queue)) * step)
		}
		if e.freeAt.After(at) {
			at = e.freeAt
		}
		e.freeAt = at.Add(step)
		return release(j, at), true
	}
	e.queue = append(e.queue, j)
	d.queued++
	d.makeReady(e)
	return outcome{}, false
}

// endpointFor returns w's endpoint, its rate limiter matching w's rateLimit.
// d.mu is held.
func (d *Dispatcher) endpointFor(w *hookgate.Webhook, now time.Time) *endpoint {
	e, ok := d.eps[w.ID]
	if !ok {
		e = &endpoint{id: w.ID}
		d.eps[w.ID] = e
	}
	e.lastUsed = now
	if w.RateLimit != e.limit {
		e.limit = w.RateLimit
		switch {
		case e.limit <= 0:
			e.lim, e.pace, e.token = nil, nil, false
		case e.lim == nil:
			// A burst of one spaces requests evenly: no second holds more
			// than rateLimit of them.
			e.lim = rate.NewLimiter(rate.Limit(e.limit), 1)
			e.pace = rate.NewLimiter(rate.Limit(e.limit), 1)
		default:
			e.lim.SetLimitAt(now, rate.Limit(e.limit))
			e.pace.SetLimitAt(now, rate.Limit(e.limit))
		}
	}
	return e
}

// makeReady puts e in line for a worker if it has a row it may send now.
// d.mu is held.
func (d *Dispatcher) makeReady(e *endpoint) {
	if e.inReady || e.waiting || len(e.queue) == 0 || e.active >= d.cfg.PerEndpoint {
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
			if e.waiting || len(e.queue) == 0 || e.active >= d.cfg.PerEndpoint {
				continue
			}
			if e.lim != nil && !e.token {
				now := d.cfg.Now()
				if wait := e.lim.ReserveN(now, 1).DelayFrom(now); wait > 0 {
					// The token is the head's once due; meanwhile no
					// worker waits for this endpoint.
					e.waiting, e.token = true, true
					time.AfterFunc(wait, func() {
						d.mu.Lock()
						e.waiting = false
						d.makeReady(e)
						d.mu.Unlock()
					})
					continue
				}
			}
			e.token = false
			j := e.queue[0]
			j.pace = e.pace
			e.queue[0] = job{}
			e.queue = e.queue[1:]
			e.active++
			d.queued--
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

// worker sends rows until the dispatcher stops.
func (d *Dispatcher) worker(ctx context.Context, results chan<- outcome) {
	for {
		j, e, ok := d.next()
		if !ok {
			return
		}
		var o outcome
		if timeout := d.cfg.Sender.Client.Timeout; timeout > 0 && d.cfg.Now().Add(timeout).After(j.lease) {
			// The request could outlive the lease, and another node may
			// take the row over: never send a row whose lease is not ours
			// for the whole request. Give it back instead.
			o = release(j, d.cfg.Now())
		} else {
			o = d.deliver(ctx, j)
		}
		d.finished(e, j, o)
		d.count(o)
		results <- o
	}
}

// finished frees e's slot and keeps its request time and failure streak.
func (d *Dispatcher) finished(e *endpoint, j job, o outcome) {
	d.mu.Lock()
	e.active--
	made, was := o.Attempt.ID != "", e.streak
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
		} else {
			e.streak++
		}
	}
	streak := e.streak
	e.lastUsed = d.cfg.Now()
	d.makeReady(e)
	d.mu.Unlock()
	switch {
	case streak == was:
		// unchanged: nothing to tell the gauge (the common case, a success
		// after a success, stays off the metric's map)
	case streak == 0:
		d.streaks.DeleteLabelValues(j.dl.ProjectID, j.dl.WebhookID)
	default:
		d.streaks.WithLabelValues(j.dl.ProjectID, j.dl.WebhookID).Set(float64(streak))
	}
}

// sweep forgets endpoints idle for ten minutes with no failure streak.
func (d *Dispatcher) sweep(now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, e := range d.eps {
		if e.active == 0 && len(e.queue) == 0 && !e.waiting && e.streak == 0 && now.Sub(e.lastUsed) > 10*time.Minute {
			delete(d.eps, id)
		}
	}
}

// outcome is an attempt's result and what recording it entails.
type outcome struct {
	hookgate.AttemptOutcome
	// disable is the webhook to disable after a 410, once the result is
	// recorded (disabling first would pause the very delivery whose result
	// is being recorded).
	disable *hookgate.Webhook
	// release is set when the row is given back without an attempt.
	release bool
	// exhausted is the delivery whose last scheduled attempt just failed.
	exhausted *hookgate.Delivery
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
	return outcome{AttemptOutcome: hookgate.AttemptOutcome{ProjectID: j.dl.ProjectID, LeaseUntil: j.lease, Status: status,
		Attempt: hookgate.Attempt{DeliveryID: j.dl.ID}}}
}

// record writes outcomes in batches: whatever arrived while the last batch
// was written. Then it disables the webhooks that answered 410 and those
// failing for too long, and sends the operational events.
func (d *Dispatcher) record(results <-chan outcome) {
	batch := make([]hookgate.AttemptOutcome, 0, 100)
	var done []outcome
	var lastStreakCheck time.Time
	for o := range results {
		batch, done = batch[:0], append(done[:0], o)
	fill:
		for len(done) < 100 { // small batches: what a crash sends twice is at most one batch plus the queue
			select {
			case o, ok := <-results:
				if !ok {
					break fill
				}
				done = append(done, o)
			default:
				break fill
			}
		}
		for _, o := range done {
			batch = append(batch, o.AttemptOutcome)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := d.cfg.Queue.RecordAttempts(ctx, d.cfg.Now(), batch); err != nil {
			// The leases run out and the deliveries are sent again: at least
			// once. The operational events wait for an outcome that is kept.
			d.cfg.Logger.Error("record attempts", "count", len(batch), "err", err)
			cancel()
			continue
		}
		ops := map[string][]hookgate.EventInput{}
		disabled := map[string]bool{}
		for _, o := range done {
			switch {
			case o.disable != nil && !disabled[o.disable.ID]:
				disabled[o.disable.ID] = true
				w, err := d.cfg.Queue.SetWebhookStatus(ctx, o.disable.ProjectID, o.disable.ID, hookgate.StatusDisabled, d.cfg.Now())
				if err != nil {
					d.cfg.Logger.Error("disable webhook after 410", "webhook", o.disable.ID, "err", err)
					continue
				}
				d.cfg.Logger.Warn("webhook disabled: it answered 410 Gone", "webhook", w.ID, "project", w.ProjectID)
				ops[w.ProjectID] = append(ops[w.ProjectID], disabledEvent(w, "gone", o.Attempt))
			case o.exhausted != nil:
				ops[o.ProjectID] = append(ops[o.ProjectID], exhaustedEvent(o.exhausted, o.Attempt))
			}
		}
		if now := d.cfg.Now(); now.Sub(lastStreakCheck) >= min(time.Minute, d.cfg.DisableAfter/4) {
			lastStreakCheck = now
			gone, err := d.cfg.Queue.DisableFailing(ctx, now.Add(-d.cfg.DisableAfter), now)
			if err != nil {
				d.cfg.Logger.Error("disable failing webhooks", "err", err)
			}
			for _, w := range gone {
				d.cfg.Logger.Warn("webhook disabled: every attempt failed", "webhook", w.ID, "project", w.ProjectID, "for", d.cfg.DisableAfter.String())
				ops[w.ProjectID] = append(ops[w.ProjectID], disabledEvent(w, "failing", hookgate.Attempt{}))
			}
		}
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
	switch {
	case res.OK():
		out.Status = hookgate.DeliverySucceeded
		return o
	case res.StatusCode == http.StatusGone:
		out.Status, o.disable = hookgate.DeliveryFailed, w
		return o
	}
	wait, ok := d.schedule(ctx, dl.ProjectID).NextDelay(n, d.cfg.Rand)
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
func (d *Dispatcher) schedule(ctx context.Context, projectID string) Schedule {
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
		s = Schedule(p.RetrySchedule)
	}
	d.projMu.Lock()
	d.projects[projectID] = cachedSchedule{s: s, at: now}
	d.projMu.Unlock()
	return s
}

// disabledEvent is the operational event saying Hookgate disabled w; reason
// is "gone" (it answered 410) or "failing".
func disabledEvent(w *hookgate.Webhook, reason string, last hookgate.Attempt) hookgate.EventInput {
	data, _ := json.Marshal(map[string]any{
		"webhookId": w.ID, "url": w.URL, "reason": reason, "status": w.Status,
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
