// Package sources runs a node's broker sources (docs/sources.md): it
// leases the active sources from the store, runs one consumer per source
// it holds through the source kind's driver, turns each message into an
// event committed as POST /events commits one, and saves each consumer's
// state for the API. On PostgreSQL the nodes of a cluster share the
// leases: one node consumes a source at a time, and another takes it over
// when that node drains (it releases its leases) or dies (they expire).
package sources

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/hookgate/hookgate"
)

// Defaults of Config.
const (
	DefaultPoll      = 5 * time.Second
	DefaultLease     = 30 * time.Second
	DefaultSaveEvery = 2 * time.Second
	DefaultRetry     = 5 * time.Second
)

// Ingester commits one event of a project as POST /events does; the API
// server (api.Server.Ingest) is one. An event its checks refuse is an
// error wrapping hookgate.ErrMessageRejected; any other error leaves the
// message to come again.
type Ingester interface {
	Ingest(ctx context.Context, projectID string, in hookgate.EventInput, traceparent, tracestate string) (*hookgate.Event, error)
}

// Store is what the runner needs of the store.
type Store interface {
	ClaimSources(ctx context.Context, node string, now, until time.Time) ([]*hookgate.Source, error)
	ReleaseSources(ctx context.Context, node string, ids ...string) error
	SaveSourceState(ctx context.Context, projectID, id, node string, st hookgate.SourceState) (bool, error)
}

// Config configures a Runner. Node, Store, Kinds and Ingest are required.
type Config struct {
	// Node names this node in the leases (the dispatcher's name).
	Node   string
	Store  Store
	Kinds  *hookgate.Sources
	Ingest Ingester
	// Poll is how often the runner claims its sources (renewing its
	// leases, taking free ones, seeing changes); default 5 s.
	Poll time.Duration
	// Lease is how long a claim holds a source; default 30 s. It must
	// outlast Poll by far: a node that cannot renew its leases for Lease
	// stops consuming, and another node may take over after it.
	Lease time.Duration
	// SaveEvery is how often a changing state is saved; default 2 s.
	SaveEvery time.Duration
	// Retry is the wait before a consumer that ended on an error starts
	// again; default 5 s.
	Retry time.Duration
	// Alone says that this node is the only one on its store (the
	// embedded store, locked by its process): at start it releases every
	// lease it finds, a dead process's, instead of waiting for them to
	// expire.
	Alone bool
	// Logger defaults to slog.Default(); Now to time.Now.
	Logger *slog.Logger
	Now    func() time.Time
}

func (c Config) withDefaults() Config {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&c.Poll, DefaultPoll)
	set(&c.Lease, DefaultLease)
	set(&c.SaveEvery, DefaultSaveEvery)
	set(&c.Retry, DefaultRetry)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Runner runs the sources this node holds.
type Runner struct {
	cfg     Config
	running map[string]*consumer
	wake    chan struct{}
}

// New returns a runner; Run starts it.
func New(cfg Config) *Runner {
	if cfg.Node == "" || cfg.Store == nil || cfg.Kinds == nil || cfg.Ingest == nil {
		panic("sources.New: Node, Store, Kinds and Ingest are required")
	}
	return &Runner{cfg: cfg.withDefaults(), running: map[string]*consumer{}, wake: make(chan struct{}, 1)}
}

// Wake makes the runner claim now rather than at its next Poll: a source
// was created or changed on this node.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run claims and consumes sources until ctx ends, then drains: it stops
// every consumer (a message being handled is either committed and
// acknowledged or comes again), saves their last states and releases its
// leases, so that another node takes them over at once.
func (r *Runner) Run(ctx context.Context) {
	poll := time.NewTicker(r.cfg.Poll)
	defer poll.Stop()
	save := time.NewTicker(r.cfg.SaveEvery)
	defer save.Stop()
	if r.cfg.Alone {
		if err := r.cfg.Store.ReleaseSources(ctx, ""); err != nil {
			r.cfg.Logger.Warn("release the leases of sources found at start", "err", err)
		}
	}
	r.claim(ctx)
	for {
		select {
		case <-ctx.Done():
			r.drain()
			return
		case <-poll.C:
			r.claim(ctx)
		case <-r.wake:
			r.claim(ctx)
		case <-save.C:
			r.saveStates(ctx)
		}
	}
}

// claim renews this node's leases and takes free ones, then makes the
// consumers match: one per source held, started again when its source
// changed; those of sources no longer held (deactivated, deleted, taken
// over after a lease that was not renewed in time) stopped.
func (r *Runner) claim(ctx context.Context) {
	now := r.cfg.Now()
	until := now.Add(r.cfg.Lease)
	held, err := r.cfg.Store.ClaimSources(ctx, r.cfg.Node, now, until)
	if err != nil {
		if ctx.Err() == nil {
			r.cfg.Logger.Warn("claim sources", "node", r.cfg.Node, "err", err)
		}
		// Consumers whose lease ran out stop: another node may hold them.
		for id, c := range r.running {
			if !now.Before(c.until) {
				r.stop(id, c, "its lease could not be renewed")
			}
		}
		return
	}
	seen := make(map[string]bool, len(held))
	for _, src := range held {
		seen[src.ID] = true
		c, ok := r.running[src.ID]
		if ok && c.src.UpdatedAt.Equal(src.UpdatedAt) {
			c.until = until
			continue
		}
		if ok {
			r.stop(src.ID, c, "its configuration changed")
		}
		r.start(src, until)
	}
	for id, c := range r.running {
		if !seen[id] {
			r.stop(id, c, "it is no longer active here (deactivated, deleted or held by another node)")
			_ = r.cfg.Store.ReleaseSources(ctx, r.cfg.Node, id)
		}
	}
}

// start runs a consumer of src.
func (r *Runner) start(src *hookgate.Source, until time.Time) {
	ctx, cancel := context.WithCancel(context.Background())
	c := &consumer{r: r, src: src, until: until, cancel: cancel, done: make(chan struct{}),
		state: hookgate.SourceState{Node: r.cfg.Node, Lag: -1, UpdatedAt: r.cfg.Now().UTC()}, dirty: true}
	r.running[src.ID] = c
	r.cfg.Logger.Info("source started", "source", src.ID, "project", src.ProjectID, "kind", src.Kind, "node", r.cfg.Node)
	go c.run(ctx)
}

// stop ends c and saves its last state, while this node may.
func (r *Runner) stop(id string, c *consumer, why string) {
	c.cancel()
	<-c.done
	delete(r.running, id)
	r.cfg.Logger.Info("source stopped", "source", id, "project", c.src.ProjectID, "node", r.cfg.Node, "why", why)
	st := c.snapshot()
	st.Node, st.Connected, st.UpdatedAt = "", false, r.cfg.Now().UTC()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := r.cfg.Store.SaveSourceState(ctx, c.src.ProjectID, id, r.cfg.Node, st); err != nil {
		r.cfg.Logger.Warn("save a source's state", "source", id, "err", err)
	}
}

// drain stops every consumer, all at once, saves their last states and
// releases this node's leases.
func (r *Runner) drain() {
	for _, c := range r.running {
		c.cancel()
	}
	for id, c := range r.running {
		r.stop(id, c, "the node is draining")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.cfg.Store.ReleaseSources(ctx, r.cfg.Node); err != nil {
		r.cfg.Logger.Warn("release sources", "node", r.cfg.Node, "err", err)
	}
}

// saveStates saves the states that changed since they were last saved.
func (r *Runner) saveStates(ctx context.Context) {
	for id, c := range r.running {
		st, changed := c.takeState()
		if !changed {
			continue
		}
		st.UpdatedAt = r.cfg.Now().UTC()
		if _, err := r.cfg.Store.SaveSourceState(ctx, c.src.ProjectID, id, r.cfg.Node, st); err != nil {
			c.markDirty()
			if ctx.Err() == nil {
				r.cfg.Logger.Warn("save a source's state", "source", id, "err", err)
			}
		}
	}
}

// consumer is one source's consumption on this node.
type consumer struct {
	r      *Runner
	src    *hookgate.Source
	until  time.Time
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	state hookgate.SourceState
	dirty bool
}

// run consumes the source with its kind's driver until ctx ends, starting
// the driver again after Retry when it ends on an error.
func (c *consumer) run(ctx context.Context) {
	defer close(c.done)
	log := c.r.cfg.Logger.With("source", c.src.ID, "project", c.src.ProjectID, "kind", c.src.Kind)
	for ctx.Err() == nil {
		driver, err := c.r.cfg.Kinds.For(c.src)
		if err == nil {
			err = driver.Consume(ctx, c.src, c.handle, reporter{c, log})
		}
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("the consumer ended")
		}
		log.Warn("source consumer failed; it starts again", "err", err, "in", c.r.cfg.Retry)
		c.update(func(st *hookgate.SourceState) {
			st.Connected = false
			st.LastError, st.LastErrorAt = describe(err), c.r.cfg.Now().UTC()
		})
		select {
		case <-ctx.Done():
			return
		case <-time.After(c.r.cfg.Retry):
		}
	}
}

// describe is err's message, the part a tenant may read when it is a
// *hookgate.Error.
func describe(err error) string {
	var he *hookgate.Error
	if errors.As(err, &he) {
		return he.Message
	}
	return err.Error()
}

func (c *consumer) update(f func(st *hookgate.SourceState)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.state)
	c.dirty = true
}

func (c *consumer) snapshot() hookgate.SourceState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// takeState returns the state and whether it changed since the last
// take.
func (c *consumer) takeState() (hookgate.SourceState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	changed := c.dirty
	c.dirty = false
	return c.state, changed
}

func (c *consumer) markDirty() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dirty = true
}

// reporter tells a consumer's state what its driver sees.
type reporter struct {
	c   *consumer
	log *slog.Logger
}

// Connected records a connection made or lost, and logs it.
func (p reporter) Connected(err error) {
	now := p.c.r.cfg.Now().UTC()
	p.c.update(func(st *hookgate.SourceState) {
		st.Connected = err == nil
		if err != nil {
			st.LastError, st.LastErrorAt = "the broker: "+err.Error(), now
		}
	})
	if err != nil {
		p.log.Warn("source disconnected", "err", err)
		return
	}
	p.log.Info("source connected")
}

// Lag records how many messages wait in the broker.
func (p reporter) Lag(n int64) {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	if p.c.state.Lag != n {
		p.c.state.Lag, p.c.dirty = n, true
	}
}
