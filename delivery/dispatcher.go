package delivery

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/sqlstore"
)

// Queue is what the dispatcher needs of the store.
type Queue interface {
	ClaimDue(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]*hookgate.Delivery, time.Time, error)
	RecordAttempts(ctx context.Context, now time.Time, outs []sqlstore.AttemptOutcome) error
	FindWebhook(ctx context.Context, projectID, id string) (*hookgate.Webhook, error)
	FindEvent(ctx context.Context, projectID, id string) (*hookgate.Event, error)
	SetWebhookStatus(ctx context.Context, projectID, id, status string, now time.Time) (*hookgate.Webhook, error)
	DisableFailing(ctx context.Context, cutoff, now time.Time) ([]*hookgate.Webhook, error)
}

// Config configures a Dispatcher; Queue and Sender are required.
type Config struct {
	Queue  Queue
	Sender *Sender
	// Schedule defaults to DefaultSchedule.
	Schedule Schedule
	// BatchSize is how many deliveries one claim takes; default 256.
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
type Dispatcher struct {
	cfg  Config
	wake chan struct{}
	sem  chan struct{}

	mu        sync.Mutex
	endpoints map[string]chan struct{}

	outcomes *prometheus.CounterVec
	latency  prometheus.Histogram
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
	d := &Dispatcher{cfg: cfg, wake: make(chan struct{}, 1), sem: make(chan struct{}, cfg.Concurrency), endpoints: map[string]chan struct{}{},
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookgate_delivery_outcomes_total",
			Help: "Delivery attempts and skips by the state they left the delivery in: succeeded, retry, failed, paused, cancelled.",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hookgate_delivery_attempt_duration_seconds", Help: "Duration of delivery requests.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15},
		}),
	}
	if cfg.Registry != nil {
		cfg.Registry.MustRegister(d.outcomes, d.latency)
	}
	return d
}

// count records an outcome in the metrics.
func (d *Dispatcher) count(o outcome) {
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

// Run dispatches until ctx ends, then waits for the requests in flight and
// records them.
func (d *Dispatcher) Run(ctx context.Context) {
	var inflight sync.WaitGroup
	// A short results queue holds senders back when recording lags, so that
	// few requests are ever sent but not yet recorded: after a crash those
	// are the ones sent twice.
	results := make(chan outcome, 32)
	recorded := make(chan struct{})
	go func() { d.record(results); close(recorded) }()
	defer func() {
		inflight.Wait()
		close(results)
		<-recorded
	}()
	for {
		claimed, lease, err := d.cfg.Queue.ClaimDue(ctx, d.cfg.Now(), d.cfg.BatchSize, d.cfg.Lease)
		if err != nil && ctx.Err() == nil {
			d.cfg.Logger.Error("claim due deliveries", "err", err)
		}
		for _, dl := range claimed {
			select {
			case d.sem <- struct{}{}:
			case <-ctx.Done():
				return // unsent claims are taken again when their lease ends
			}
			inflight.Add(1)
			go func() {
				defer inflight.Done()
				defer func() { <-d.sem }()
				o := d.deliver(ctx, dl, lease)
				d.count(o)
				results <- o
			}()
		}
		if len(claimed) == d.cfg.BatchSize {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-time.After(d.cfg.Poll):
		}
	}
}

// outcome is an attempt's result and, after a 410, the webhook to disable
// once the result is recorded (disabling first would pause the very
// delivery whose result is being recorded).
type outcome struct {
	sqlstore.AttemptOutcome
	disable *hookgate.Webhook
	// skip is set when nothing was done: the lease would have ended before
	// the request could finish, so the row is left for the next claim.
	skip bool
}

// record writes outcomes in batches: whatever arrived while the last batch
// was written.
func (d *Dispatcher) record(results <-chan outcome) {
	batch := make([]sqlstore.AttemptOutcome, 0, 256)
	var disable []*hookgate.Webhook
	var lastStreakCheck time.Time
	for o := range results {
		batch, disable = batch[:0], disable[:0]
		if o.skip {
			continue
		}
		batch = append(batch, o.AttemptOutcome)
		if o.disable != nil {
			disable = append(disable, o.disable)
		}
	fill:
		for len(batch) < 100 { // small batches: what a crash sends twice is at most one batch plus the queue
			select {
			case o, ok := <-results:
				if !ok {
					break fill
				}
				if o.skip {
					continue
				}
				batch = append(batch, o.AttemptOutcome)
				if o.disable != nil {
					disable = append(disable, o.disable)
				}
			default:
				break fill
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := d.cfg.Queue.RecordAttempts(ctx, d.cfg.Now(), batch); err != nil {
			// The leases run out and the deliveries are sent again: at least once.
			d.cfg.Logger.Error("record attempts", "count", len(batch), "err", err)
		}
		for _, w := range disable {
			if _, err := d.cfg.Queue.SetWebhookStatus(ctx, w.ProjectID, w.ID, hookgate.StatusDisabled, d.cfg.Now()); err != nil {
				d.cfg.Logger.Error("disable webhook after 410", "webhook", w.ID, "err", err)
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
			}
		}
		cancel()
	}
}

// deliver makes one attempt for dl and returns its outcome.
func (d *Dispatcher) deliver(ctx context.Context, dl *hookgate.Delivery, lease time.Time) outcome {
	var o outcome
	out := &o.AttemptOutcome
	*out = sqlstore.AttemptOutcome{ProjectID: dl.ProjectID, WebhookID: dl.WebhookID, LeaseUntil: lease, Attempt: hookgate.Attempt{DeliveryID: dl.ID}}
	w, err := d.cfg.Queue.FindWebhook(ctx, dl.ProjectID, dl.WebhookID)
	if hookgate.ErrorCode(err) == hookgate.ENotFound {
		out.Status = hookgate.DeliveryCancelled
		return o
	}
	if err == nil && w.Status != hookgate.StatusActive {
		out.Status = hookgate.DeliveryPaused
		return o
	}
	var ev *hookgate.Event
	if err == nil {
		ev, err = d.cfg.Queue.FindEvent(ctx, dl.ProjectID, dl.EventID)
	}
	if err != nil {
		// Try again later without counting an attempt.
		out.Status, out.NextAttemptAt = hookgate.DeliveryPending, d.cfg.Now().Add(5*time.Second)
		return o
	}
	slot := d.endpoint(w.ID)
	select {
	case slot <- struct{}{}:
	case <-ctx.Done():
	}
	defer func() {
		select {
		case <-slot:
		default:
		}
	}()
	start := d.cfg.Now()
	if timeout := d.cfg.Sender.Client.Timeout; timeout > 0 && start.Add(timeout).After(lease) {
		// Waiting for a slot took so long that the request could outlive the
		// lease, and another node may take the row over: never send a row
		// whose lease is not ours for the whole request.
		o.skip = true
		return o
	}
	res := d.cfg.Sender.Send(ctx, w, Message{ID: dl.ID, EventType: ev.Type, EventTime: ev.CreatedAt, Data: ev.Data})
	n := dl.Attempts + 1
	out.Attempt = hookgate.Attempt{ID: hookgate.NewID(hookgate.PrefixAttempt, start), DeliveryID: dl.ID, Attempt: n, StartedAt: start,
		DurationMs: res.Duration.Milliseconds(), StatusCode: res.StatusCode, ResponseHeaders: res.Headers, ResponseBody: res.Body}
	if res.Err != nil {
		out.Attempt.Error = res.Err.Error()
	}
	switch {
	case res.OK():
		out.Status = hookgate.DeliverySucceeded
		return o
	case res.StatusCode == http.StatusGone:
		out.Status, o.disable = hookgate.DeliveryFailed, w
		return o
	}
	wait, ok := d.cfg.Schedule.NextDelay(n, d.cfg.Rand)
	if !ok {
		out.Status = hookgate.DeliveryFailed
		return o
	}
	if ra, ok := RetryAfter(res.StatusCode, http.Header(headerOf(res.Headers)), d.cfg.Now()); ok && ra > wait {
		wait = ra
	}
	out.Status, out.NextAttemptAt = hookgate.DeliveryPending, d.cfg.Now().Add(wait)
	return o
}

func headerOf(m map[string]string) http.Header {
	h := make(http.Header, len(m))
	for k, v := range m {
		h.Set(k, v)
	}
	return h
}

// endpoint returns the semaphore of a webhook's concurrent requests.
func (d *Dispatcher) endpoint(id string) chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.endpoints[id]
	if !ok {
		c = make(chan struct{}, d.cfg.PerEndpoint)
		d.endpoints[id] = c
	}
	return c
}
