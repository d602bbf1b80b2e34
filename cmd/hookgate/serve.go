package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/api"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/destinations/redisstream"
	"github.com/hookgate/hookgate/internal/app"
	"github.com/hookgate/hookgate/netguard"
	"github.com/hookgate/hookgate/platforms/providers"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/tracing"
	"github.com/hookgate/hookgate/ui"
)

type serveFlags struct {
	storeFlags
	addr          string
	publicURL     string
	logLevel      string
	logFormat     string
	traceURL      string
	maxEventBytes int64
	bodyTimeout   time.Duration
	drainTimeout  time.Duration
	drainDelay    time.Duration
	sendTimeout   time.Duration
	lease         time.Duration
	retention     time.Duration
	disableAfter  time.Duration
	nodeTimeout   time.Duration
	// nodeName is this node's name (delivery.Config.Node); "" makes one
	// of the host name and a random part.
	nodeName string
	// recoverySchedule and recoveryFor pace the probes of disabled
	// webhooks (delivery.Config.RecoverySchedule, RecoveryFor).
	recoverySchedule string
	recoveryFor      time.Duration
	endpointMin      int
	endpointMax      int
	pprofAddr        string
	pprofRemote      bool
	metricsAddr      string
	metricsToken     string

	triggerConcurrency int
	// breakerFailures and breakerCooldown are the server's circuit
	// breaker (delivery.Config.Breaker); failures 0 turns it off where
	// neither the webhook nor its project sets failures.
	breakerFailures int
	breakerCooldown time.Duration
}

// maxSendTimeout bounds --send-timeout: an attempt is recorded when it
// ends, and the stats roll up an hour's attempts an hour after its end.
const maxSendTimeout = 30 * time.Minute

// deliveryFlags names delivery.Config's fields, in the errors of its
// Validate, by the flags that set them.
var deliveryFlags = map[string]string{
	"Lease":            "--lease",
	"SendTimeout":      "--send-timeout",
	"NodeTimeout":      "--node-timeout",
	"Node":             "--node-name",
	"PerEndpoint":      "--endpoint-concurrency",
	"MaxPerEndpoint":   "--max-endpoint-concurrency",
	"RecoverySchedule": "--recovery-schedule",
	"Breaker.Failures": "--breaker-failures",
	"Breaker.Cooldown": "--breaker-cooldown",
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Hookgate server",
		Long: `Run the Hookgate server. With no flags it keeps everything in ./hookgate-data
(embedded SQLite). With --database-url postgres://… many nodes can share one
PostgreSQL database. SIGTERM or SIGINT (Ctrl-C) drains: /readyz answers 503
(for --drain-delay, requests are still served), stop taking requests, finish
the ones in flight, commit accepted events, exit 0. A second one cuts the
drain short: requests in flight are closed and deliveries in flight abandoned,
given back to the queue (sent again at the next start); a third ends the process
at once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sigs := make(chan os.Signal, 2)
			signal.Notify(sigs, syscall.SIGTERM, os.Interrupt)
			defer signal.Stop(sigs)
			stops := watchStops(cmd.Context(), sigs, func() { signal.Stop(sigs) })
			defer stops.close()
			return serve(stops.ctx, cmd, &f, stops)
		},
	}
	f.storeFlags.register(cmd)
	cmd.Flags().StringVar(&f.addr, "addr", "127.0.0.1:8080", "listen address")
	cmd.Flags().StringVar(&f.publicURL, "public-url", "", "base URL of inbound endpoints given to platforms, and of the dashboard (https://… behind a TLS proxy); default http://{addr}")
	cmd.Flags().StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	cmd.Flags().StringVar(&f.logFormat, "log-format", "json", "json (one object a line) or text (key=value)")
	cmd.Flags().StringVar(&f.traceURL, "trace-url", "", "a link to a trace in your tracing UI, with {traceId} in it (https://tempo.example/trace/{traceId}): the dashboard links each attempt's trace there")
	cmd.Flags().StringVar(&f.synchronous, "sqlite-synchronous", sqlstore.SynchronousFull, "embedded SQLite only: full syncs every commit to disk, so an event answered 202 survives a power cut; normal syncs only at checkpoints (fewer fsyncs), so the last commits may vanish in an OS crash or power loss, though not in a crash of the process")
	cmd.Flags().DurationVar(&f.commitDelay, "sqlite-commit-delay", 0, "embedded SQLite only: while events come closer together than this, a small group commit waits up to this long after its first event for others to share its fsync: less CPU per event at moderate rates, later answers (0, the default, never waits; at most 10ms)")
	cmd.Flags().Int64Var(&f.maxEventBytes, "max-event-bytes", api.DefaultMaxEventBytes, "largest POST …/events body in bytes (the batch endpoint takes 16 times as much)")
	cmd.Flags().DurationVar(&f.bodyTimeout, "body-timeout", 20*time.Second, "how long a request body may take to arrive once the server reads it (at most 2m, the listener's read timeout); a slower one is answered 408")
	cmd.Flags().StringVar(&f.pprofAddr, "pprof-addr", "", "serve Go's profiler (net/http/pprof) on this loopback address, such as 127.0.0.1:6060; off when empty")
	cmd.Flags().BoolVar(&f.pprofRemote, "pprof-allow-remote", false, "let --pprof-addr be an address other than loopback")
	cmd.Flags().StringVar(&f.metricsAddr, "metrics-addr", "", "serve GET /metrics (Prometheus) without authentication on a listener of its own at this address, such as 127.0.0.1:9464; none when empty")
	cmd.Flags().StringVar(&f.metricsToken, "metrics-token", "", "serve GET /metrics on the main listener, to requests with Authorization: Bearer this token")
	cmd.Flags().DurationVar(&f.disableAfter, "disable-after", delivery.DefaultDisableAfter, "a webhook whose every attempt has failed for this long is disabled")
	cmd.Flags().StringVar(&f.recoverySchedule, "recovery-schedule", hookgate.DefaultRecoverySchedule.String(), "waits before each recovery probe of a webhook Hookgate disabled: the first after the disabling, each next after the probe before, the last repeated (same syntax as HOOKGATE_RETRY_SCHEDULE)")
	cmd.Flags().DurationVar(&f.recoveryFor, "recovery-for", hookgate.DefaultRecoveryFor, "how long after its disabling a webhook is probed; 0 turns recovery probes off")
	cmd.Flags().IntVar(&f.breakerFailures, "breaker-failures", hookgate.DefaultBreakerFailures, fmt.Sprintf("consecutive failed attempts that open a webhook's circuit breaker, 1 to %d, unless its project or the webhook sets its own; 0 turns the breaker off where neither does", hookgate.MaxBreakerFailures))
	cmd.Flags().DurationVar(&f.breakerCooldown, "breaker-cooldown", hookgate.DefaultBreakerCooldown, fmt.Sprintf("how long an open circuit waits before its probe, %s to %s (it doubles after each failed probe, up to %s), unless the project or the webhook sets its own", hookgate.FormatDuration(hookgate.MinBreakerCooldown), hookgate.FormatDuration(hookgate.MaxBreakerCooldown), hookgate.FormatDuration(hookgate.MaxBreakerCooldown)))
	cmd.Flags().DurationVar(&f.retention, "retention", 30*24*time.Hour, "attempts, finished events' payloads and triggers' stored input older than this are purged, hourly")
	cmd.Flags().DurationVar(&f.lease, "lease", delivery.DefaultLease, "how long a claimed delivery stays with this node, while it beats, before another may take it over; more than --send-timeout")
	cmd.Flags().DurationVar(&f.nodeTimeout, "node-timeout", delivery.DefaultNodeTimeout, "on PostgreSQL, how long a node's heartbeat may be silent before the other nodes take its deliveries over")
	cmd.Flags().StringVar(&f.nodeName, "node-name", "", "this node's name, in its leases, heartbeats and attempts: 1 to 64 letters, digits, '.', '-' and '_', held by one live process at a time (a restart under the same name waits for the previous process's heartbeat to age, at most --node-timeout); default the host name and a random part, such as web-1-3f9a2c")
	cmd.Flags().DurationVar(&f.sendTimeout, "send-timeout", delivery.DefaultSendTimeout, "how long one delivery or trigger request may take")
	cmd.Flags().IntVar(&f.endpointMin, "endpoint-concurrency", delivery.DefaultPerEndpoint, "deliveries in flight to one webhook at first, and at least; more while it answers 2xx with a backlog waiting")
	cmd.Flags().IntVar(&f.endpointMax, "max-endpoint-concurrency", delivery.DefaultMaxPerEndpoint, "most deliveries in flight to one webhook from this node")
	cmd.Flags().IntVar(&f.triggerConcurrency, "trigger-concurrency", delivery.DefaultTriggersPerWebhook, "triggers of one webhook in flight on this node; more are answered 429")
	cmd.Flags().DurationVar(&f.drainTimeout, "drain-timeout", delivery.DefaultDrain, "how long SIGTERM waits for API requests and delivery requests in flight")
	cmd.Flags().DurationVar(&f.drainDelay, "drain-delay", 0, "on SIGTERM, how long to keep serving with /readyz answering 503 before the listener closes and --drain-timeout starts, so that load balancers stop sending new requests first (such as 5s behind a Kubernetes Service); a second SIGTERM cuts it short")
	return withEnv(cmd)
}

// readTimeout bounds the reading of a whole request; --body-timeout
// bounds its body's far below.
const readTimeout = 2 * time.Minute

// check refuses flag values no configuration can take, each message naming
// its flag; the rules between the dispatcher's settings are delivery's own
// (delivery.Config.Validate).
func (f *serveFlags) check() error {
	if f.maxEventBytes <= 0 {
		return fmt.Errorf("--max-event-bytes must be positive")
	}
	if f.bodyTimeout <= 0 || f.bodyTimeout > readTimeout {
		return fmt.Errorf("--body-timeout (%s) must be above 0 and at most %s", f.bodyTimeout, readTimeout)
	}
	if f.drainDelay < 0 {
		return fmt.Errorf("--drain-delay must be 0 (none) or more")
	}
	if f.retention < time.Hour {
		return fmt.Errorf("--retention must be at least 1h")
	}
	if f.recoveryFor < 0 {
		return fmt.Errorf("--recovery-for must be 0 (no recovery probes) or more")
	}
	if f.breakerFailures < 0 || f.breakerFailures > hookgate.MaxBreakerFailures {
		return fmt.Errorf("--breaker-failures (%d) must be between 1 and %d, or 0 to turn the breaker off", f.breakerFailures, hookgate.MaxBreakerFailures)
	}
	if f.breakerCooldown < hookgate.MinBreakerCooldown || f.breakerCooldown > hookgate.MaxBreakerCooldown {
		return fmt.Errorf("--breaker-cooldown (%s) must be between %s and %s", hookgate.FormatDuration(f.breakerCooldown), hookgate.FormatDuration(hookgate.MinBreakerCooldown), hookgate.FormatDuration(hookgate.MaxBreakerCooldown))
	}
	if f.endpointMin <= 0 || f.endpointMax <= 0 {
		return fmt.Errorf("--endpoint-concurrency must be positive and at most --max-endpoint-concurrency, itself at most %d", delivery.MaxEndpointConcurrency)
	}
	if f.triggerConcurrency <= 0 {
		return fmt.Errorf("--trigger-concurrency must be positive")
	}
	if f.sendTimeout <= 0 || f.sendTimeout > maxSendTimeout {
		return fmt.Errorf("--send-timeout (%s) must be above 0 and at most %s: the stats roll up an hour of attempts an hour after its end", f.sendTimeout, maxSendTimeout)
	}
	// To delivery.Config a duration of 0 is unset, its default; as a flag
	// it is refused, as delivery would refuse a value too small.
	if f.nodeTimeout <= 0 {
		return fmt.Errorf("--node-timeout must be at least %s: the heartbeat is sent every third of it", delivery.MinNodeTimeout)
	}
	if f.lease <= 0 {
		return fmt.Errorf("--lease (%s) must be longer than --send-timeout (%s)", f.lease, f.sendTimeout)
	}
	switch f.synchronous = strings.ToLower(f.synchronous); f.synchronous {
	case sqlstore.SynchronousFull, sqlstore.SynchronousNormal:
	default:
		return fmt.Errorf("--sqlite-synchronous (HOOKGATE_SQLITE_SYNCHRONOUS) must be full or normal, not %q", f.synchronous)
	}
	if f.commitDelay < 0 || f.commitDelay > sqlstore.MaxSQLiteCommitDelay {
		return fmt.Errorf("--sqlite-commit-delay (HOOKGATE_SQLITE_COMMIT_DELAY) must be between 0 and %s, not %s", sqlstore.MaxSQLiteCommitDelay, f.commitDelay)
	}
	if f.pprofAddr != "" && !f.pprofRemote {
		if host, _, err := net.SplitHostPort(f.pprofAddr); err != nil || !isLoopback(host) {
			return fmt.Errorf("--pprof-addr %s is not a loopback address: the profiler shows the server's memory; add --pprof-allow-remote to serve it there anyway", f.pprofAddr)
		}
	}
	return nil
}

func serve(ctx context.Context, cmd *cobra.Command, f *serveFlags, stops *stopSignals) error {
	log, err := newLogger(cmd.ErrOrStderr(), f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	allow, err := netguard.ParseAllowList(os.Getenv("HOOKGATE_ALLOW_NETWORKS"))
	if err != nil {
		return fmt.Errorf("HOOKGATE_ALLOW_NETWORKS: %w", err)
	}
	if err := f.check(); err != nil {
		return err
	}
	// One sender for deliveries and triggers (internal/app makes it):
	// OAuth2 tokens and rateLimit pacing are shared.
	acfg := app.Config{
		Policy:      netguard.New(allow),
		SendTimeout: f.sendTimeout,
		UserAgent:   "Hookgate/" + version,
		Delivery: delivery.Config{
			Node:           f.nodeName,
			Lease:          f.lease,
			NodeTimeout:    f.nodeTimeout,
			PerEndpoint:    f.endpointMin,
			MaxPerEndpoint: f.endpointMax,
			// The embedded store is locked to this process: whatever it finds
			// leased at start was claimed by a process that died.
			Alone:        f.databaseURL == "",
			DisableAfter: f.disableAfter,
			Drain:        f.drainTimeout,
			RecoveryFor:  f.recoveryFor,
			Breaker:      hookgate.Breaker{Failures: f.breakerFailures, Cooldown: f.breakerCooldown},
		},
	}
	if f.recoveryFor == 0 {
		acfg.Delivery.RecoveryFor = -1 // to delivery.Config, 0 is its default
	}
	if f.breakerFailures == 0 {
		acfg.Delivery.Breaker.Failures = hookgate.BreakerOff // to delivery.Config, 0 is its default
	}
	if acfg.Delivery.RecoverySchedule, err = hookgate.ParseSchedule(f.recoverySchedule); err != nil {
		return fmt.Errorf("--recovery-schedule: %w", err)
	}
	if acfg.Delivery.Node == "" {
		acfg.Delivery.Node = delivery.NewNodeName()
	}
	// The destinations (the HTTP kind on one Sender) are made once, here.
	acfg = acfg.WithDefaults()
	// The dispatcher's rules are delivery's, told in the flags' names.
	if err := acfg.Validate(deliveryFlags); err != nil {
		return err
	}
	if err := ensureDataDir(f.dataDir, log.Warn); err != nil {
		return err
	}
	if f.databaseURL == "" {
		// The embedded database is one process's: a second server on the
		// same files would fight its writer and lose leases' meaning.
		unlock, err := lockDataDir(f.dataDir)
		if err != nil {
			return err
		}
		defer unlock()
	}
	store, err := f.openStore(ctx, log)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	// This node's name in the nodes table, in its leases, its attempts and
	// the key records; one live process holds it at a time.
	node, incarnation := acfg.Delivery.Node, delivery.NewIncarnation()
	if err := claimNodeName(ctx, store, node, incarnation, f.nodeTimeout, f.databaseURL == "", log); err != nil {
		return err
	}
	// Refused before its dispatcher runs (which leaves when it stops), a
	// node gives its name back at once: it would otherwise count as live
	// for the node timeout, and refuse the next start's admin key.
	dispatching := false
	defer func() {
		if !dispatching {
			lctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, err := store.Leave(lctx, node, incarnation); err != nil {
				log.Warn("remove this node from the nodes table; it counts as live for --node-timeout", "node", node, "err", err)
			}
		}
	}()
	// Every node must seal and open with the database's key: a node with
	// its own would leave the deliveries of its webhooks to itself, and
	// fail those of the others'.
	if err := store.CheckEncryptionKey(ctx, node); err != nil {
		return keyRefusal(err, f.nodeTimeout)
	}
	// What a commit waits for, as the database says: what a 202 survives.
	synchronous, err := store.Synchronous(ctx)
	if err != nil {
		return fmt.Errorf("read the database's synchronous setting: %w", err)
	}
	switch {
	case store.Engine() == sqlstore.EngineSQLite && synchronous != sqlstore.SynchronousFull:
		log.Warn("--sqlite-synchronous=normal: an accepted event survives a crash of this process, but the last commits may vanish if the machine crashes or loses power")
	case store.Engine() == sqlstore.EnginePostgres && synchronous == "off":
		log.Warn("PostgreSQL's synchronous_commit is off: the last accepted events (up to about three times wal_writer_delay) may vanish if the database server crashes")
	case store.Engine() == sqlstore.EnginePostgres && f.synchronous != sqlstore.SynchronousFull:
		log.Warn("--sqlite-synchronous is ignored on PostgreSQL: its synchronous_commit decides what a commit waits for", "synchronousCommit", synchronous)
	}
	// Values sealed before they were bound to their place, and webhook URLs
	// stored before they were sealed, are sealed (again).
	if n, err := store.Reseal(ctx, nil); err != nil {
		return fmt.Errorf("seal stored secrets in the current scheme: %w", err)
	} else if n > 0 {
		log.Info("stored secrets sealed in the current scheme", "values", n)
	}
	if f.databaseURL != "" && os.Getenv("HOOKGATE_ADMIN_KEY") == "" {
		// Each node would otherwise make its own: the cluster would answer
		// to as many admin keys as it has data dirs.
		log.Warn("HOOKGATE_ADMIN_KEY is not set: using the admin key of this node's data dir; every node on this database needs the same HOOKGATE_ADMIN_KEY", "dataDir", f.dataDir)
	}
	admin, err := adminKey(f.dataDir, cmd.OutOrStdout())
	if err != nil {
		return fmt.Errorf("admin key: %w", err)
	}
	reg := prometheus.NewRegistry()
	registerQueueMetrics(reg, store)
	registerStoreMetrics(reg, store, f.nodeTimeout, log)
	schedule := hookgate.DefaultSchedule
	if v := os.Getenv("HOOKGATE_RETRY_SCHEDULE"); v != "" {
		if schedule, err = hookgate.ParseSchedule(v); err != nil {
			return fmt.Errorf("HOOKGATE_RETRY_SCHEDULE: %w", err)
		}
	}
	// The listener is opened before the public URL is made from its
	// address: with --addr 127.0.0.1:0 the port is known only then.
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	publicURL, err := publicBase(f.publicURL, ln.Addr().String())
	if err != nil {
		return err
	}
	if err := checkTraceURL(f.traceURL); err != nil {
		return err
	}
	tracer, stopTracing, err := tracing.Setup(ctx, node, version)
	if err != nil {
		return err
	}
	defer func() {
		flush, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := stopTracing(flush); err != nil {
			log.Warn("flush the spans still queued", "err", err)
		}
	}()
	acfg.Store = store
	acfg.Delivery.Incarnation, acfg.Delivery.Schedule, acfg.Delivery.Logger, acfg.Delivery.Registry = incarnation, schedule, log, reg
	acfg.Delivery.Tracer = tracer
	acfg.API = api.Config{
		AdminKey: admin, AdminKeyTag: store.Digest("hookgate dashboard admin key", admin),
		Logger: log, Registry: reg, Tracer: tracer,
		MaxEventBytes: f.maxEventBytes, BodyReadTimeout: f.bodyTimeout, Version: version,
		TriggerConcurrency: f.triggerConcurrency,
		Providers:          providers.All(), PublicURL: publicURL, MetricsToken: f.metricsToken,
	}
	// The dashboard, at /ui/; its cookie is Secure unless the public URL is
	// plain http on a loopback host.
	acfg.Dashboard = &ui.Config{Logger: log, PublicURL: publicURL, TraceURL: f.traceURL}
	redisstream.LogTo(log) // go-redis has one logger per process
	parts := app.New(acfg)
	dispatcher, handler := parts.Dispatcher, parts.API
	// Deferred before the dispatcher's stop, so run after it.
	defer func() {
		if err := acfg.Delivery.Destinations.Close(); err != nil {
			log.Warn("close destinations", "err", err)
		}
	}()
	// Deliveries of the events this node accepts are born leased to its
	// dispatcher: no claim query on the hot path.
	store.Adopt(dispatcher)
	defer store.Adopt(nil)
	// The admin key must be the live nodes' one; with none alive, this
	// node's replaces the record (that is how the admin key changes).
	// The check registers the node, so that nodes starting at once see
	// each other.
	now := time.Now()
	replaced, err := store.CheckAdminKey(ctx, node, admin, now, now.Add(-f.nodeTimeout), f.databaseURL == "")
	if err != nil {
		return keyRefusal(err, f.nodeTimeout)
	}
	if replaced {
		log.Warn("the admin key changed: this node's replaces the one recorded, no other node being alive; dashboard sessions of the former key end")
	}
	// The deliveries a previous run (or, on PostgreSQL, the cluster) left
	// pending, which this node now takes up.
	if due, scheduled, oldest, err := store.QueueStats(ctx, now); err != nil {
		log.Warn("read the backlog of pending deliveries", "err", err)
	} else {
		attrs := []any{"due", due, "scheduled", scheduled}
		if !oldest.IsZero() {
			attrs = append(attrs, "oldestDueSince", oldest.UTC().Format(time.RFC3339))
		}
		log.Info("backlog at start: pending deliveries; the due ones are sent now, the scheduled ones at their time", attrs...)
	}
	dctx, stopDispatch := context.WithCancel(context.Background())
	dispatched := make(chan struct{})
	// The dispatcher, and the redrives this node resumes or runs.
	dispatching = true
	go func() { parts.Run(dctx); close(dispatched) }()
	// Events committed by other nodes, and keys, projects and schemas they
	// changed.
	go store.Listen(dctx, sqlstore.Listeners{Wake: dispatcher.Wake, Changed: handler.Changed})
	go purgeEvery(dctx, time.Hour, f.retention, store.Purge, log)
	// On an error the dispatcher is stopped here; drain stops it itself,
	// and does not wait for ever.
	drained := false
	defer func() {
		if !drained {
			stopDispatch()
			<-dispatched
		}
	}()
	metricsAt, closeSide, err := startSideListeners(f, reg, log)
	if err != nil {
		return err
	}
	defer closeSide()
	requests := &inFlight{h: handler}
	srv := &http.Server{
		Handler:           requests,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       readTimeout,
		// A client that does not read its answer releases it after this.
		WriteTimeout: 2*f.sendTimeout + time.Minute,
		IdleTimeout:  2 * time.Minute,
	}
	if f.metricsToken != "" {
		metricsAt = append(metricsAt, publicURL+"/metrics with Authorization: Bearer {--metrics-token}")
	}
	if len(metricsAt) == 0 {
		metricsAt = append(metricsAt, "off (--metrics-addr or --metrics-token serves them)")
	}
	dataDir, err := filepath.Abs(f.dataDir)
	if err != nil {
		dataDir = f.dataDir
	}
	logAllowList(log, allow)
	log.Info("hookgate listening", "addr", ln.Addr().String(), "dashboard", publicURL+"/ui/", "dataDir", dataDir, "metrics", strings.Join(metricsAt, "; "),
		"allowNetworks", prefixList(allow), "engine", store.Engine(), "synchronous", synchronous, "keyFingerprint", store.KeyFingerprint(), "node", node, "version", version)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var displaced error
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	case <-dispatcher.Displaced():
		// Another process took this node's name: it claims under it now,
		// so this one drains and exits (its orchestrator restarts it,
		// and the restart waits for the name, or is refused it).
		displaced = fmt.Errorf("--node-name %s: another live process holds this node's name now, so this one stopped; give each node a name of its own", node)
	}
	drained = true
	err = (&draining{log: log, srv: srv, requests: requests, dispatcher: dispatcher, stopDispatch: stopDispatch,
		dispatched: dispatched, store: store, timeout: f.drainTimeout, unready: handler.Drain, delay: f.drainDelay}).drain(stops)
	if displaced != nil {
		return displaced
	}
	return err
}

// startSideListeners serves the profiler on --pprof-addr and metrics on
// --metrics-addr, each when asked for, and returns where metrics are and
// how to close both. Metrics have no port of their own unless one is
// asked for, so that any number of servers run on one machine.
func startSideListeners(f *serveFlags, reg *prometheus.Registry, log *slog.Logger) (metricsAt []string, closeAll func(), err error) {
	var servers []*http.Server
	closeAll = func() {
		for _, s := range servers {
			_ = s.Close()
		}
	}
	if f.pprofAddr != "" {
		pln, err := net.Listen("tcp", f.pprofAddr)
		if err != nil {
			return nil, closeAll, fmt.Errorf("--pprof-addr: %w", err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		psrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = psrv.Serve(pln) }()
		servers = append(servers, psrv)
		log.Info("profiler listening", "addr", pln.Addr().String())
	}
	if f.metricsAddr != "" {
		mln, err := net.Listen("tcp", f.metricsAddr)
		if err != nil {
			closeAll()
			return nil, func() {}, fmt.Errorf("--metrics-addr: %w", err)
		}
		msrv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = msrv.Serve(mln) }()
		servers = append(servers, msrv)
		metricsAt = append(metricsAt, "http://"+mln.Addr().String()+"/metrics")
	}
	return metricsAt, closeAll, nil
}

// logAllowList says at every start which networks HOOKGATE_ALLOW_NETWORKS
// opens: it lets webhooks reach networks the SSRF policy keeps them from.
func logAllowList(log *slog.Logger, allow []netip.Prefix) {
	if opened := netguard.OpensBlocked(allow); len(opened) > 0 {
		log.Warn("HOOKGATE_ALLOW_NETWORKS lets webhook and trigger URLs reach networks the SSRF policy denies: anyone who may register a webhook may make this server send requests there",
			"opened", prefixList(opened), "allowNetworks", prefixList(allow))
	} else if len(allow) > 0 {
		log.Info("HOOKGATE_ALLOW_NETWORKS is set; its networks are public, which the SSRF policy allows anyway", "allowNetworks", prefixList(allow))
	}
}

// prefixList writes prefixes as HOOKGATE_ALLOW_NETWORKS takes them; "none"
// for none.
func prefixList(ps []netip.Prefix) string {
	if len(ps) == 0 {
		return "none"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// publicBase is the base of inbound URLs: --public-url, or http://{addr}
// (a listener on every interface is named by its loopback address).
func publicBase(public, addr string) (string, error) {
	if public != "" {
		if err := hookgate.ValidateURL("--public-url", public); err != nil {
			return "", errors.New(hookgate.ErrorMessage(err))
		}
		return strings.TrimSuffix(public, "/"), nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--addr: %w", err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// purgeEvery runs purge hourly; it is idempotent, so every node may run it.
func purgeEvery(ctx context.Context, every, retention time.Duration, purge func(ctx context.Context, before, now time.Time) (int64, error), log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		n, err := purge(ctx, now.Add(-retention), now)
		if err != nil && ctx.Err() == nil {
			log.Error("purge", "err", err)
			continue
		}
		if n > 0 {
			log.Info("purged", "rows", n, "olderThan", now.Add(-retention).UTC().Format(time.RFC3339))
		}
	}
}

// queueCollector exports the queue's depth, read from the database once per
// scrape; the figures are the whole cluster's, not this node's.
type queueCollector struct {
	store                *sqlstore.Store
	due, scheduled, aged *prometheus.Desc
	circuits             *prometheus.Desc

	// The counts are read at most every queueStatsEvery, however often
	// scrapers come: each read scans the pending rows.
	mu                     sync.Mutex
	readAt                 time.Time
	nDue, nScheduled, ageS float64
	nCircuits              map[string]int64
}

// queueStatsEvery bounds how often a scrape reads the queue's counts.
const queueStatsEvery = 5 * time.Second

func registerQueueMetrics(reg *prometheus.Registry, store *sqlstore.Store) {
	reg.MustRegister(&queueCollector{
		store:     store,
		due:       prometheus.NewDesc("hookgate_queue_due", "Pending deliveries that are due now.", nil, nil),
		scheduled: prometheus.NewDesc("hookgate_queue_scheduled", "Pending deliveries scheduled for later.", nil, nil),
		aged:      prometheus.NewDesc("hookgate_queue_oldest_due_age_seconds", "How long the oldest due delivery has waited; 0 when none is due.", nil, nil),
		circuits: prometheus.NewDesc("hookgate_circuit_state", "Active webhooks by the state of their circuit breaker (closed, open, half_open), the whole cluster's.",
			[]string{"state"}, nil),
	})
}

// Describe implements prometheus.Collector.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.due
	ch <- c.scheduled
	ch <- c.aged
	ch <- c.circuits
}

// Collect implements prometheus.Collector. When the database does not
// answer, the metrics are left out of the scrape rather than made up.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if now.Sub(c.readAt) >= queueStatsEvery {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		due, scheduled, oldest, err := c.store.QueueStats(ctx, now)
		if err != nil {
			return
		}
		c.readAt, c.nDue, c.nScheduled, c.ageS = now, float64(due), float64(scheduled), 0
		if !oldest.IsZero() {
			c.ageS = now.Sub(oldest).Seconds()
		}
		if counts, err := c.store.CircuitCounts(ctx); err == nil {
			c.nCircuits = counts
		}
	}
	for state, n := range c.nCircuits {
		ch <- prometheus.MustNewConstMetric(c.circuits, prometheus.GaugeValue, float64(n), state)
	}
	ch <- prometheus.MustNewConstMetric(c.due, prometheus.GaugeValue, c.nDue)
	ch <- prometheus.MustNewConstMetric(c.scheduled, prometheus.GaugeValue, c.nScheduled)
	ch <- prometheus.MustNewConstMetric(c.aged, prometheus.GaugeValue, c.ageS)
}

// checkTraceURL accepts "" or an absolute http(s) URL with {traceId} in it.
func checkTraceURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(strings.NewReplacer("{traceId}", "t", "{spanId}", "s").Replace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !strings.Contains(raw, "{traceId}") {
		return fmt.Errorf("--trace-url %q: an http or https URL with {traceId} in it, such as https://tempo.example/trace/{traceId}", raw)
	}
	return nil
}

// claimNodeName takes node's name for this process (incarnation) before
// it registers, claims or leases anything under it. On PostgreSQL a name
// whose holder beats within timeout is another live process's: serve
// watches that heartbeat, up to timeout, and is refused if it moves; if it
// ages instead (the holder was killed and this is its restart), the name
// and the rows leased under it are taken. The embedded store's lock makes
// this process the only one: the name is taken at once.
func claimNodeName(ctx context.Context, store *sqlstore.Store, node, incarnation string, timeout time.Duration, alone bool, log *slog.Logger) error {
	var first time.Time
	began := time.Now()
	for {
		now := time.Now()
		stale := now.Add(-timeout)
		if alone {
			stale = now.Add(time.Hour) // any heartbeat is a dead process's
		}
		held, released, err := store.ClaimNodeName(ctx, node, incarnation, now, stale)
		switch {
		case err != nil:
			return fmt.Errorf("take the node name %s: %w", node, err)
		case held.IsZero():
			if released > 0 {
				log.Info("took back the deliveries claimed under this node's name by its previous process", "node", node, "count", released)
			}
			if !first.IsZero() {
				log.Info("the previous process under this node's name went silent: this one takes the name", "node", node, "waited", time.Since(began).Round(time.Millisecond).String())
			}
			return nil
		case first.IsZero():
			first = held
			log.Warn("a process under this node's name beat within --node-timeout: waiting to see whether it is alive (a restart after a crash waits for its heartbeat to age)",
				"node", node, "heartbeatAt", held.UTC().Format(time.RFC3339Nano), "nodeTimeout", timeout.String())
		case !held.Equal(first):
			return fmt.Errorf("--node-name %s is held by another live process (its heartbeat moved at %s): give each node a name of its own, "+
				"or stop that process first", node, held.UTC().Format(time.RFC3339))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(timeout / 12):
		}
	}
}
