// Package app is Hookgate's composition root: it makes one node's API
// server, dashboard and delivery dispatcher on a store, wired together,
// for `hookgate serve` and for api/apitest, which runs a whole server for
// the tests of the API's clients. The caller keeps what is its own: the
// listeners, the signals, the store's wake-ups and the order of a stop.
package app

import (
	"context"
	"sync"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/api"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/destinations/all"
	"github.com/hookgate/hookgate/netguard"
	"github.com/hookgate/hookgate/sources"
	"github.com/hookgate/hookgate/ui"
)

// Store is the store and the delivery queue, which sqlstore.Store is.
type Store interface {
	hookgate.Store
	hookgate.Queue
}

// Config configures one node. Store is required.
type Config struct {
	Store Store
	// Policy is the network policy of the requests to receivers and
	// providers; default netguard.New(nil).
	Policy *netguard.Policy
	// SendTimeout bounds one delivery or trigger request; default
	// delivery.DefaultSendTimeout.
	SendTimeout time.Duration
	// UserAgent is that of the requests to receivers; default "Hookgate".
	UserAgent string
	// Sender makes the HTTP requests of deliveries and triggers; default
	// one under Policy with SendTimeout and UserAgent.
	Sender *delivery.Sender
	// API configures the API server; New sets its Store, Policy, Sender,
	// SendTimeout, OnEvents, Sources and OnSources (the sources runner's
	// Wake) and Destinations (Delivery's), and the
	// dispatcher's settings it answers: RetrySchedule, RecoverySchedule,
	// RecoveryFor and Breaker.
	API api.Config
	// Delivery configures the dispatcher; New sets its Queue, and its
	// Destinations when unset: every kind of destinations/all, HTTP on
	// Sender.
	Delivery delivery.Config
	// Dashboard, when set, is served at /ui/; New sets its API and Store.
	Dashboard *ui.Config
	// SourceKinds are the broker source kinds; default every kind of
	// destinations/all, dialing as Sender does (under Policy).
	SourceKinds *hookgate.Sources
	// Sources configures the runner of broker sources; New sets its
	// Node (the dispatcher's), Store, Kinds, Ingest (the API server) and
	// Logger (Delivery's) when unset, and Alone when Delivery's is.
	Sources sources.Config
}

// App is a node's parts, wired: the API wakes the dispatcher when it
// accepts events, and both send through one Sender, so that OAuth2 tokens
// and rateLimit pacing are shared by deliveries and triggers.
type App struct {
	API        *api.Server
	Dispatcher *delivery.Dispatcher
	Sender     *delivery.Sender
	// Sources runs the broker sources this node holds.
	Sources *sources.Runner
}

// Run does the node's background work until ctx is done: the dispatcher
// delivers, the API server resumes the redrives stopped nodes left
// (api.Server.RunRedrives), and the broker sources this node holds are
// consumed. It returns once all stopped: deliveries in flight recorded or
// given back (delivery.Config.Drain), the redrives this node runs stopped
// after their current batch, and the sources' consumers stopped with
// their leases released.
func (a *App) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { a.API.RunRedrives(ctx) })
	wg.Go(func() { a.Sources.Run(ctx) })
	a.Dispatcher.Run(ctx)
	wg.Wait()
}

// WithDefaults returns c with each unset field at its default, and the
// destinations it implies in Delivery.
func (c Config) WithDefaults() Config {
	if c.Policy == nil {
		c.Policy = netguard.New(nil)
	}
	if c.SendTimeout <= 0 {
		c.SendTimeout = delivery.DefaultSendTimeout
	}
	if c.UserAgent == "" {
		c.UserAgent = "Hookgate"
	}
	if c.Sender == nil {
		c.Sender = &delivery.Sender{Client: c.Policy.Client(c.SendTimeout), UserAgent: c.UserAgent}
	}
	if c.Delivery.Destinations == nil {
		c.Delivery.Destinations = all.New(c.Sender)
	}
	if c.SourceKinds == nil {
		c.SourceKinds = all.Sources(c.Sender)
	}
	return c
}

// Validate checks the parts' configurations by their own rules (so far
// delivery.Config.Validate), naming the fields as names gives them.
func (c Config) Validate(names map[string]string) error {
	return c.WithDefaults().Delivery.Validate(names)
}

// New makes the parts of a node on cfg.Store. Its configuration must pass
// Validate: a caller whose configuration comes from its user checks it
// first.
func New(cfg Config) *App {
	cfg = cfg.WithDefaults()
	sender := cfg.Sender
	dcfg := cfg.Delivery
	dcfg.Queue = cfg.Store
	dispatcher := delivery.New(dcfg)
	acfg := cfg.API
	acfg.Store, acfg.Policy, acfg.Sender, acfg.SendTimeout, acfg.OnEvents = cfg.Store, cfg.Policy, sender, cfg.SendTimeout, dispatcher.Wake
	acfg.RetrySchedule = cfg.Delivery.Schedule
	acfg.RecoverySchedule, acfg.RecoveryFor = cfg.Delivery.RecoverySchedule, cfg.Delivery.RecoveryFor
	acfg.Breaker = cfg.Delivery.Breaker
	acfg.Destinations = cfg.Delivery.Destinations
	acfg.TraceOff = dispatcher.TraceHeadersOff
	acfg.Node = dispatcher.Node()
	acfg.Sources = cfg.SourceKinds
	var runner *sources.Runner
	acfg.OnSources = func() { runner.Wake() }
	handler := api.New(acfg)
	if cfg.Dashboard != nil {
		ucfg := *cfg.Dashboard
		ucfg.API, ucfg.Store = handler, cfg.Store
		handler.Mount("/ui/", ui.New(ucfg))
	}
	scfg := cfg.Sources
	if scfg.Node == "" {
		scfg.Node = dispatcher.Node()
	}
	if scfg.Store == nil {
		scfg.Store = cfg.Store
	}
	if scfg.Kinds == nil {
		scfg.Kinds = cfg.SourceKinds
	}
	if scfg.Ingest == nil {
		scfg.Ingest = handler
	}
	if scfg.Logger == nil {
		scfg.Logger = cfg.Delivery.Logger
	}
	scfg.Alone = scfg.Alone || cfg.Delivery.Alone
	runner = sources.New(scfg)
	return &App{API: handler, Dispatcher: dispatcher, Sender: sender, Sources: runner}
}
