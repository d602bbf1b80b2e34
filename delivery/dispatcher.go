package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/tracing"
)

// The dispatcher's defaults, used by New for a zero Config field and by
// serve for its flags.
const (
	DefaultBatchSize      = 256
	DefaultLease          = 2 * time.Minute
	DefaultPerEndpoint    = 8
	DefaultMaxPerEndpoint = 64
	DefaultConcurrency    = 256
	DefaultDisableAfter   = 5 * 24 * time.Hour
	DefaultDrain          = 30 * time.Second
	DefaultPoll           = time.Second
	DefaultNodeTimeout    = 15 * time.Second
	DefaultRecordWait     = 20 * time.Millisecond
	DefaultProbePoll      = 10 * time.Second
)

// Config configures a Dispatcher; Queue and Destinations are required.
type Config struct {
	Queue hookgate.Queue
	// Destinations sends each delivery through its webhook's kind of
	// destination (destinations/all registers them).
	Destinations *hookgate.Destinations
	// Schedule defaults to hookgate.DefaultSchedule; a project's own schedule, when
	// it has one, takes its place for that project's deliveries.
	Schedule hookgate.Schedule
	// BatchSize is how many deliveries one claim takes; default
	// DefaultBatchSize. No more are claimed while this many waiting in
	// memory can be sent within a second.
	BatchSize int
	// Lease is how long a claim is held before another node may take the
	// rows over, when the node holding them still beats; default
	// DefaultLease. It must exceed the destinations' longest Timeout.
	Lease time.Duration
	// Node names this dispatcher in the leases it takes, in its heartbeat
	// and in its attempts: 1 to MaxNodeName letters, digits, '.', '-' and
	// '_' (CheckNodeName); default NewNodeName(). Two live processes must
	// not share one: serve claims it at start (sqlstore's ClaimNodeName).
	Node string
	// Incarnation tells this process from the others that ran under the
	// same Node; default NewIncarnation(). A heartbeat that finds the name
	// held by another incarnation fails with hookgate.ErrNodeNameTaken,
	// and Displaced is closed.
	Incarnation string
	// NodeTimeout is how old another node's latest heartbeat may be before
	// this one takes its rows over; default DefaultNodeTimeout. The
	// heartbeat is sent every third of it.
	NodeTimeout time.Duration
	// Alone says that no other node shares the store (serve holds the
	// embedded store's lock): every lease found at start belongs to a
	// process that died, and is taken back at once.
	Alone bool
	// PerEndpoint is how many requests to one webhook may be in flight at
	// first, and at least; default DefaultPerEndpoint. While the webhook
	// answers 2xx with all its slots taken, it gets one slot more per
	// window of successes, up to MaxPerEndpoint; a failure halves its
	// slots, down to PerEndpoint.
	PerEndpoint int
	// MaxPerEndpoint caps the requests to one webhook in flight; default
	// DefaultMaxPerEndpoint, and never less than PerEndpoint.
	MaxPerEndpoint int
	// Concurrency caps requests in flight; default DefaultConcurrency.
	Concurrency int
	// DisableAfter disables a webhook whose every attempt has failed for
	// this long; default DefaultDisableAfter.
	DisableAfter time.Duration
	// RecoverySchedule is the wait before each recovery probe of a webhook
	// Hookgate disabled: the first after the disabling, each next after
	// the probe before, the last repeated; default
	// hookgate.DefaultRecoverySchedule.
	RecoverySchedule hookgate.Schedule
	// RecoveryFor is how long after its disabling a webhook is probed;
	// default hookgate.DefaultRecoveryFor. Negative: never.
	RecoveryFor time.Duration
	// ProbePoll is how often the recovery probes due are looked for;
	// default DefaultProbePoll.
	ProbePoll time.Duration
	// CertificateCheck is how often the webhooks' client certificates
	// about to expire are looked for (and once at start); default
	// DefaultCertificateCheck.
	CertificateCheck time.Duration
	// Drain is how long requests in flight may go on once Run's context
	// ends; default DefaultDrain.
	Drain time.Duration
	// Poll is the longest sleep between claims when nothing wakes the
	// dispatcher; default DefaultPoll.
	Poll time.Duration
	// RecordWait is how long an outcome may wait for others to be recorded
	// with it in one write, unless a full batch comes sooner; default
	// DefaultRecordWait. Under light load each write then serves several
	// deliveries; what a crash sends twice grows by at most this much of
	// deliveries.
	RecordWait time.Duration
	// FailureLogEvery and FailureLogInterval pace the log of a failing
	// webhook: its first failed attempt is logged, then a summary every
	// FailureLogEvery failures or every FailureLogInterval, then its
	// recovery; defaults DefaultFailureLogEvery and
	// DefaultFailureLogInterval. Every attempt is in the attempts table and
	// the metrics whatever these say.
	FailureLogEvery    int
	FailureLogInterval time.Duration
	Logger             *slog.Logger
	// Registry receives the delivery metrics; default none.
	Registry prometheus.Registerer
	// Tracer starts each attempt's span; nil exports none, and attempts
	// still carry trace IDs.
	Tracer *tracing.Tracer
	Now    func() time.Time
	// Rand returns values in [0, 1) for jitter; default math/rand/v2.
	Rand func() float64
	// Breaker is the server's circuit breaker, which projects and webhooks
	// may override field by field; a zero field takes
	// hookgate.DefaultBreaker's, and Failures hookgate.BreakerOff turns
	// it off where neither sets failures (serve --breaker-failures 0).
	Breaker hookgate.Breaker
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
	running  bool
	stopping bool
	// born are deliveries adopted at their creation, waiting for the
	// claim loop to route them; bornRows counts their rows.
	born     []bornBatch
	bornRows int
	// bornBy counts, by webhook, the rows AdoptDue accepted and the claim
	// loop has not routed yet.
	bornBy map[string]int
	bornCh chan struct{}
	// hasten are the endpoints that ran dry with rows given back, for the
	// claim loop to make those due (hastenGiven).
	hasten []*endpoint
	// givenRows counts the rows remembered in the endpoints' given lists,
	// bounded by maxGiven batches.
	givenRows int

	// circuits is what this node knows of the circuit breakers that are
	// not clean, by webhook ID, under mu; circuitsRead is when the store's
	// were last read.
	circuits     map[string]*circuit
	circuitsRead time.Time
	// circuitProbes numbers this node's half-open probes.
	circuitProbes atomic.Int64

	projMu   sync.Mutex
	projects map[string]cachedProject

	failures *failureLog

	// stopNow cancels the claims and the requests in flight; set while Run
	// runs, for Abandon. abandoning is set by Abandon. report is what the
	// stop did, under mu.
	stopNow    context.CancelFunc
	abandoning atomic.Bool
	report     StopReport

	outcomes *prometheus.CounterVec
	latency  prometheus.Histogram
	failing  prometheus.Gauge
	unopened prometheus.Counter
	probes   *prometheus.CounterVec
	// storeErrors counts failed store operations by op; nodesLost the
	// silent nodes this node forgot.
	storeErrors *prometheus.CounterVec
	nodesLost   prometheus.Counter
	// spills counts the rows given back for lack of room (givenBack) and
	// those of them made due when their endpoint ran dry (hastened).
	spills              *prometheus.CounterVec
	givenBack, hastened prometheus.Counter

	// displaced is closed when a heartbeat found this node's name held by
	// another live process.
	displaced     chan struct{}
	displacedOnce sync.Once
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
	// dest sends the delivery; nil when the webhook's kind is not
	// registered here.
	dest hookgate.Destination
	// probe names the circuit's probe this delivery is, with the breaker
	// in force; held is set when the webhook's circuit holds the row,
	// which is then given back due at holdUntil.
	probe     string
	breaker   hookgate.Breaker
	held      bool
	holdUntil time.Time
}

// MaxEndpointConcurrency bounds Config.MaxPerEndpoint.
const MaxEndpointConcurrency = 1024

// MinNodeTimeout bounds Config.NodeTimeout from below: the heartbeat is
// sent every third of it.
const MinNodeTimeout = 3 * time.Second

// WithDefaults returns c with each unset field at its default.
func (c Config) WithDefaults() Config {
	if c.Schedule == nil {
		c.Schedule = hookgate.DefaultSchedule
	}
	setDefault(&c.BatchSize, DefaultBatchSize)
	setDefault(&c.Lease, DefaultLease)
	setDefault(&c.PerEndpoint, DefaultPerEndpoint)
	setDefault(&c.MaxPerEndpoint, max(DefaultMaxPerEndpoint, c.PerEndpoint))
	setDefault(&c.Concurrency, DefaultConcurrency)
	setDefault(&c.DisableAfter, DefaultDisableAfter)
	if c.RecoverySchedule == nil {
		c.RecoverySchedule = hookgate.DefaultRecoverySchedule
	}
	if c.RecoveryFor == 0 {
		c.RecoveryFor = hookgate.DefaultRecoveryFor
	}
	setDefault(&c.ProbePoll, DefaultProbePoll)
	setDefault(&c.CertificateCheck, DefaultCertificateCheck)
	setDefault(&c.Drain, DefaultDrain)
	setDefault(&c.Poll, DefaultPoll)
	setDefault(&c.NodeTimeout, DefaultNodeTimeout)
	setDefault(&c.RecordWait, DefaultRecordWait)
	setDefault(&c.FailureLogEvery, DefaultFailureLogEvery)
	setDefault(&c.FailureLogInterval, DefaultFailureLogInterval)
	if c.Node == "" {
		c.Node = NewNodeName()
	}
	if c.Incarnation == "" {
		c.Incarnation = NewIncarnation()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Float64
	}
	c.Breaker = c.Breaker.Over(hookgate.DefaultBreaker)
	return c
}

// Validate checks the rules between c's fields, with its defaults applied:
// Node is a node name (CheckNodeName), Destinations is set, Lease is longer than the longest timeout of its
// kinds (a request must end before its claim does), PerEndpoint is at most
// MaxPerEndpoint, itself at most MaxEndpointConcurrency, NodeTimeout is
// at least MinNodeTimeout, and Breaker is within hookgate's bounds. Its
// errors name the fields as names gives them (serve passes its flags:
// "Lease" is "--lease"; the destinations' timeout is "SendTimeout", the
// breaker's fields "Breaker.Failures" and "Breaker.Cooldown"), or by
// their own names.
func (c Config) Validate(names map[string]string) error {
	c = c.WithDefaults()
	name := func(field string) string {
		if n, ok := names[field]; ok {
			return n
		}
		return field
	}
	badName := CheckNodeName(c.Node)
	switch {
	case badName != nil:
		return fmt.Errorf("%s: %w", name("Node"), badName)
	case c.Destinations == nil:
		return fmt.Errorf("delivery: %s is required", name("Destinations"))
	case c.PerEndpoint > c.MaxPerEndpoint || c.MaxPerEndpoint > MaxEndpointConcurrency:
		return fmt.Errorf("%s must be positive and at most %s, itself at most %d", name("PerEndpoint"), name("MaxPerEndpoint"), MaxEndpointConcurrency)
	case c.NodeTimeout < MinNodeTimeout:
		return fmt.Errorf("%s must be at least %s: the heartbeat is sent every third of it", name("NodeTimeout"), MinNodeTimeout)
	case len(c.RecoverySchedule) == 0:
		return fmt.Errorf("%s must have at least one wait", name("RecoverySchedule"))
	case c.Lease <= c.Destinations.Timeout():
		return fmt.Errorf("%s (%s) must be longer than %s (%s)", name("Lease"), c.Lease, name("SendTimeout"), c.Destinations.Timeout())
	case !c.Breaker.Off() && (c.Breaker.Failures < 1 || c.Breaker.Failures > hookgate.MaxBreakerFailures):
		return fmt.Errorf("%s (%d) must be between 1 and %d, or hookgate.BreakerOff", name("Breaker.Failures"), c.Breaker.Failures, hookgate.MaxBreakerFailures)
	case c.Breaker.Cooldown < hookgate.MinBreakerCooldown || c.Breaker.Cooldown > hookgate.MaxBreakerCooldown:
		return fmt.Errorf("%s (%s) must be between %s and %s", name("Breaker.Cooldown"), hookgate.FormatDuration(c.Breaker.Cooldown), hookgate.FormatDuration(hookgate.MinBreakerCooldown), hookgate.FormatDuration(hookgate.MaxBreakerCooldown))
	}
	return nil
}

// New returns a dispatcher with cfg's defaults applied. It panics if cfg
// breaks a rule of Validate, a mistake of the program; a caller whose
// configuration comes from its user (serve's flags) calls Validate first.
func New(cfg Config) *Dispatcher {
	if err := cfg.Validate(nil); err != nil {
		panic(err)
	}
	cfg = cfg.WithDefaults()
	d := &Dispatcher{cfg: cfg, wake: make(chan struct{}, 1), space: make(chan struct{}, 1), bornCh: make(chan struct{}, 1), displaced: make(chan struct{}),
		eps: map[string]*endpoint{}, circuits: map[string]*circuit{}, projects: map[string]cachedProject{},
		failures: newFailureLog(cfg.FailureLogEvery, cfg.FailureLogInterval),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookgate_delivery_outcomes_total",
			Help: "Delivery attempts and skips by the state they left the delivery in: succeeded, retry, failed, paused, cancelled.",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hookgate_delivery_attempt_duration_seconds", Help: "Duration of delivery requests.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15},
		}),
		// No per-tenant labels: series of deleted webhooks would stay, and
		// the metrics are the operator's, not a tenant's.
		failing: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hookgate_webhooks_failing",
			Help: "Webhooks whose latest attempts from this node all failed (a failure streak runs).",
		}),
		unopened: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookgate_delivery_decrypt_failures_total",
			Help: "Delivery attempts failed without a request because the webhook's secrets could not be decrypted with this node's encryption key.",
		}),
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookgate_recovery_probes_total",
			Help: "Recovery probes of disabled webhooks by their outcome: succeeded (the webhook is enabled again), failed, gone (a 410 stopped the probing).",
		}, []string{"outcome"}),
		storeErrors: newStoreErrors(),
		nodesLost:   newNodesLost(),
		spills:      newSpills(),
	}
	zeroSeries(d.outcomes, hookgate.DeliverySucceeded, "retry", hookgate.DeliveryFailed, hookgate.DeliveryPaused, hookgate.DeliveryCancelled)
	zeroSeries(d.probes, "succeeded", "failed", "gone")
	d.givenBack, d.hastened = d.spills.WithLabelValues("given_back"), d.spills.WithLabelValues("hastened")
	d.work = sync.NewCond(&d.mu)
	if cfg.Registry != nil {
		cfg.Registry.MustRegister(d.outcomes, d.latency, d.failing, d.unopened, d.probes, d.storeErrors, d.nodesLost, d.spills)
	}
	return d
}

// setDefault sets *v to def when it is not positive.
func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Node is the name this dispatcher gives its leases.
func (d *Dispatcher) Node() string { return d.cfg.Node }

// Displaced is closed when a heartbeat finds this node's name held by
// another live process (hookgate.ErrNodeNameTaken): two processes would
// then claim under one name. The dispatcher claims no more; its caller
// should stop it and exit (serve drains and exits 1).
func (d *Dispatcher) Displaced() <-chan struct{} { return d.displaced }

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
		tracing.Observe(d.latency, float64(o.Attempt.DurationMs)/1000, o.Attempt.TraceID)
	}
}

// Wake tells the dispatcher that deliveries may be due now. It never blocks.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// StopReport is what a dispatcher did with its rows as it stopped.
type StopReport struct {
	// GivenBack counts the rows claimed but not started, given back to the
	// store due as they were.
	GivenBack int
	// Finished counts the requests in flight at the stop that ended and
	// were recorded (a request the drain time cut short is recorded as a
	// failed attempt).
	Finished int
	// Abandoned counts the requests Abandon cut short: their rows were
	// given back due at once, with no attempt counted.
	Abandoned int
	// Left counts the rows still leased to this node at its very end
	// (adopted at their birth as it stopped), given back by Queue.Leave.
	Left int64
}

// StopReport returns what the stop did; it is complete once Run returned.
func (d *Dispatcher) StopReport() StopReport {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.report
}

// InFlight returns the requests in flight and the rows waiting in memory
// to be sent.
func (d *Dispatcher) InFlight() (sending, waiting int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, e := range d.eps {
		sending += e.active
	}
	return sending, d.queued + d.bornRows
}

// Abandon stops the dispatcher at once, cutting its drain short (serve
// calls it on a second SIGTERM or SIGINT): it claims no more, cancels the
// requests in flight and gives their rows back to the store due at once,
// with no attempt counted, as it gives back the rows not started; then Run
// records that and returns. A receiver may have had an abandoned request
// already: the delivery is sent again, at least once as always. Abandon
// may be called at any time, also before Run.
func (d *Dispatcher) Abandon() {
	d.abandoning.Store(true)
	d.mu.Lock()
	stop := d.stopNow
	d.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// Run dispatches until ctx ends. Then it claims no more, gives the rows not
// yet started back to the store, lets the requests in flight finish for up
// to the drain time (none with Abandon), records every outcome and returns.
// Call it once.
func (d *Dispatcher) Run(ctx context.Context) {
	sendCtx, cancelSends := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSends()
	ctx, stopClaims := context.WithCancel(ctx)
	defer stopClaims()
	d.mu.Lock()
	d.stopNow = func() { stopClaims(); cancelSends() }
	d.mu.Unlock()
	if d.abandoning.Load() {
		d.stopNow()
	}
	// A short results queue holds senders back when recording lags, so that
	// few requests are ever sent but not yet recorded: after a crash those
	// are the ones sent twice.
	results := make(chan outcome, 32)
	beating := make(chan struct{})
	beatCtx, stopBeating := context.WithCancel(context.WithoutCancel(ctx))
	d.join(ctx)
	go func() { d.heartbeat(beatCtx); close(beating) }()
	// A node whose name another process holds claims no more: Run stops
	// as on its context's end.
	go func() {
		select {
		case <-d.displaced:
			stopClaims()
		case <-ctx.Done():
		}
	}()
	probing := make(chan struct{})
	go func() {
		defer close(probing)
		if d.cfg.RecoveryFor > 0 {
			d.probeLoop(ctx)
		}
	}()
	checking := make(chan struct{})
	go func() { defer close(checking); d.certificateLoop(ctx) }()
	d.mu.Lock()
	d.running = true
	d.mu.Unlock()
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
	// Adopted rows not yet routed stay leased to this node: Leave gives
	// them back.
	d.born, d.bornRows, d.bornBy = nil, 0, nil
	d.queued = 0
	d.report.GivenBack = len(left)
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
	<-probing
	<-checking
	d.logDueSummaries(true)
	stopBeating()
	<-beating
	d.leave()
}
