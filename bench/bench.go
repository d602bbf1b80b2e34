package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate/client"
)

// Scenarios, in the order "all" runs them.
var Scenarios = []string{"throughput", "fanout", "latency", "batch-ingest", "backlog", "slow-receiver", "cpu", "fifo", "filters"}

// FIFOKeys are the numbers of ordering keys the fifo scenario runs with,
// one server each.
var FIFOKeys = []int{1, 100}

// DefaultCPURates are the rates the cpu scenario offers, in events a second.
var DefaultCPURates = []int{100, 1000, 5000}

// Config says what to run.
type Config struct {
	// Executable is the hookgate binary to start with "serve".
	Executable string
	// DatabaseURL selects PostgreSQL (each scenario gets a schema of its
	// own, dropped at the end); empty for SQLite in a temporary directory.
	DatabaseURL string
	Scenarios   []string
	// Duration is how long load is offered in each timed scenario.
	Duration time.Duration
	// Concurrency is the number of producer connections, and of the
	// baseline's.
	Concurrency int
	// Rate is the offered rate of the latency scenario, in events a second.
	Rate int
	// Backlog is the number of events the backlog scenario queues.
	Backlog int
	// Fanout is the number of endpoints of the fanout and filters
	// scenarios.
	Fanout int
	// FIFOEvents is the number of events the fifo scenario offers at each
	// number of keys.
	FIFOEvents int
	// CPURates are the rates the cpu scenario offers, one server each;
	// default DefaultCPURates.
	CPURates []int
	// Preload is how many finished deliveries (with their events and one
	// attempt each) each scenario's store holds before its load starts.
	Preload int
	// PprofAddr, when set, is passed to each server's --pprof-addr, to
	// profile it during a scenario.
	PprofAddr string
	// Brokers are where the broker scenarios deliver; an empty field takes
	// its default (Default*URL, guest/guest).
	Brokers Brokers
	// Nodes is how many servers each engine scenario runs on one
	// PostgreSQL schema, the load spread over them round-robin; 0 and 1 are
	// one. More than one needs DatabaseURL. The broker scenarios run one.
	Nodes int
	// Progress, when set, is told each scenario's start and its phases.
	Progress func(scenario, phase string, done, total int)

	// probe reads what PostgreSQL spends, when DatabaseURL is set.
	probe *dbProbe
}

// Parameters are what a run was asked to do, written with its results so
// that a JSON file says how its figures were made.
type Parameters struct {
	Scenarios   []string `json:"scenarios"`
	Store       string   `json:"store"`
	DurationS   float64  `json:"duration_s"`
	Concurrency int      `json:"concurrency"`
	Rate        int      `json:"rate"`
	Backlog     int      `json:"backlog"`
	Fanout      int      `json:"fanout"`
	FIFOEvents  int      `json:"fifo_events"`
	CPURates    []int    `json:"cpu_rates"`
	Preload     int      `json:"preload"`
	// Nodes is the servers each engine scenario ran on (1 unless --nodes).
	Nodes int `json:"nodes"`
	// Brokers are the broker scenarios' brokers, by kind; absent when none
	// ran.
	Brokers map[string]string `json:"brokers,omitempty"`
	// Version is the benchmarked binary's version.
	Version   string    `json:"version"`
	GoVersion string    `json:"go_version"`
	CPUs      int       `json:"cpus"`
	StartedAt time.Time `json:"started_at"`
}

// ParametersOf returns cfg's parameters.
func ParametersOf(cfg Config, version string, started time.Time) Parameters {
	store := "sqlite"
	if cfg.DatabaseURL != "" {
		store = "postgres"
	}
	var brokers map[string]string
	b := cfg.Brokers.withDefaults()
	for _, name := range cfg.Scenarios {
		if k, ok := brokerKinds[name]; ok {
			if brokers == nil {
				brokers = map[string]string{}
			}
			brokers[k.name] = k.url(b)
		}
	}
	return Parameters{Scenarios: cfg.Scenarios, Store: store, DurationS: cfg.Duration.Seconds(), Concurrency: cfg.Concurrency,
		Rate: cfg.Rate, Backlog: cfg.Backlog, Fanout: cfg.Fanout, FIFOEvents: cfg.FIFOEvents, CPURates: cfg.CPURates, Preload: cfg.Preload, Nodes: max(1, cfg.Nodes), Brokers: brokers,
		Version: version, GoVersion: runtime.Version(), CPUs: runtime.NumCPU(), StartedAt: started.UTC()}
}

// Latency is a distribution in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Result is one scenario's figures. Figures that a scenario does not
// measure are null, never made up; a skipped scenario has none (see
// MarshalJSON).
type Result struct {
	Scenario string `json:"scenario"`
	Store    string `json:"store"`
	// Skipped says why a broker scenario measured nothing: its broker did
	// not answer, or this build has no destination of its kind.
	Skipped              string  `json:"skipped,omitempty"`
	DurationS            float64 `json:"duration_s"`
	EventsPerS           float64 `json:"events_per_s"`
	DeliveriesPerS       float64 `json:"deliveries_per_s"`
	BaselineRequestsPerS float64 `json:"baseline_requests_per_s"`
	RatioToBaseline      float64 `json:"ratio_to_baseline"`
	// LatencyMs is from each event's 202 reaching the producer to its
	// delivery's first arrival at the receiver (0 when it came first).
	LatencyMs Latency `json:"latency_ms"`
	// AcceptMs is from sending each request to its 202 (each event of a
	// batch counts its request's time): what a producer waits, the commit
	// included.
	AcceptMs  Latency `json:"accept_ms"`
	RSSMBPeak float64 `json:"rss_mb_peak"`
	// Errors counts events not accepted (an answer other than 202, or
	// none).
	Errors int `json:"errors"`
	// Lost counts events that got a 202 and never reached the receiver.
	Lost int `json:"lost"`
	// Duplicates counts requests that repeated a webhook-id.
	Duplicates int `json:"duplicates"`
	// CPUMsPerDelivery is the server process's CPU time (its threads' run
	// times, see cpuReading) from the start of load to the last delivery,
	// over the deliveries made; on PostgreSQL the database's own CPU is not
	// in it.
	CPUMsPerDelivery float64 `json:"cpu_ms_per_delivery"`
	// CPUCores is the same CPU time over the same wall time: the cores the
	// server kept busy. With several nodes, both are summed over them.
	CPUCores float64 `json:"cpu_cores"`
	// DiskBytesPerDelivery is the server processes' write_bytes (from
	// /proc/{pid}/io) over the same time, per delivery: on SQLite the
	// store's writes, its WAL and checkpoints; null where it cannot be read.
	DiskBytesPerDelivery *float64 `json:"disk_bytes_per_delivery"`
	// LoadCores is the CPU time of the bench's own process, the load
	// generator and the receiver, over the same wall time.
	LoadCores float64 `json:"load_cores"`
	// Postgres (on PostgreSQL) is what the database server spent.
	Postgres *DBFigures `json:"postgres,omitempty"`
	// Nodes is the servers the scenario ran on; AttemptsByNode (more than
	// one) counts the attempts each made, by node name, read from the
	// schema after the run.
	Nodes          int            `json:"nodes"`
	AttemptsByNode map[string]int `json:"attempts_by_node,omitempty"`
	// RelayCPUMsPerDelivery (cpu, throughput) is the plain relay's CPU time
	// per forwarded event under the same load in the same run, measured as
	// CPUMsPerDelivery is: the cost of doing the least a gateway does.
	RelayCPUMsPerDelivery *float64 `json:"relay_cpu_ms_per_delivery,omitempty"`
	// RelayLoadCores (cpu, throughput) is LoadCores during the relay's
	// run: with RelayCPUMsPerDelivery, what the whole machine spent on a
	// relayed event, to set beside what it spent on a delivery.
	RelayLoadCores *float64 `json:"relay_load_cores,omitempty"`
	// CPUVsRelay (cpu) is CPUMsPerDelivery over RelayCPUMsPerDelivery.
	CPUVsRelay *float64 `json:"cpu_vs_relay,omitempty"`
	// RelayDeliveriesPerS (throughput) is the plain relay's deliveries/s
	// under the same flood in the same run.
	RelayDeliveriesPerS *float64 `json:"relay_deliveries_per_s,omitempty"`
	// RatioToRelay (throughput) is DeliveriesPerS over
	// RelayDeliveriesPerS.
	RatioToRelay *float64 `json:"ratio_to_relay,omitempty"`
	// Scenario-specific figures.
	Endpoints int `json:"endpoints"`
	// OfferedPerS (cpu): the rate offered.
	OfferedPerS *float64 `json:"offered_per_s,omitempty"`
	// IdleCPUPct (cpu, first rate): the server's CPU over 3 s with no load,
	// in percent of one core.
	IdleCPUPct *float64 `json:"idle_cpu_pct,omitempty"`
	// OthersVsThroughput (slow-receiver): the healthy endpoint's
	// deliveries/s over the throughput scenario's in the same run.
	OthersVsThroughput *float64 `json:"others_vs_throughput,omitempty"`
	// PairDeliveriesPerS (slow-receiver): the healthy endpoint's
	// deliveries/s in the same scenario run again in the same run with the
	// slow endpoint replaced by a healthy one, so that ingest writes as
	// many rows per event; OthersVsPair is the slow run's over it: what the
	// slow endpoint itself costs the other.
	PairDeliveriesPerS *float64 `json:"pair_deliveries_per_s,omitempty"`
	OthersVsPair       *float64 `json:"others_vs_pair,omitempty"`
	// FIFOKeys (fifo): the ordering keys the events were spread over, one
	// webhook with ordering fifo receiving them all.
	FIFOKeys *int `json:"fifo_keys,omitempty"`
	// VsThroughput (fifo): DeliveriesPerS over the throughput scenario's
	// in the same run, when it ran.
	VsThroughput *float64 `json:"vs_throughput,omitempty"`
	// FilterVariant (filters): the run's webhooks' filters, one of
	// FilterVariants; Filter is each webhook's ("<i>" standing for the
	// webhook's number in pass-one).
	FilterVariant string `json:"filter_variant,omitempty"`
	Filter        string `json:"filter,omitempty"`
	// VsNoFilters (filters): EventsPerS over the none variant's in the same
	// run.
	VsNoFilters *float64 `json:"vs_no_filters,omitempty"`
	// Unfiltered (filters, pass-one): deliveries that reached a webhook
	// whose filter the event fails; 0 when the server evaluates filters.
	Unfiltered *int `json:"unfiltered,omitempty"`
	// FilterRejected and FilterFailed (filters, pass-one): the project's
	// filter counters in its stats after the run, the events its webhooks'
	// filters answered false for and those they failed on; each accepted
	// event should be rejected by every webhook but one.
	FilterRejected *int `json:"filter_rejected,omitempty"`
	FilterFailed   *int `json:"filter_failed,omitempty"`
	// DrainS (backlog): from the receiver coming back to the last delivery.
	DrainS *float64 `json:"drain_s,omitempty"`
	// Series is deliveries arriving in each step from the start of load,
	// and events accepted in each step; for the plot. SeriesStepS is the
	// step in seconds.
	DeliveriesSeries []int   `json:"deliveries_series"`
	AcceptedSeries   []int   `json:"accepted_series"`
	SeriesStepS      float64 `json:"series_step_s"`
	// Broker (broker scenarios) compares the kind's figures with an HTTP
	// receiver's measured in the same run.
	Broker *BrokerFigures `json:"broker,omitempty"`
	// latencies are kept for the plot.
	latencies []time.Duration
	// sendToArrival (a broker scenario's leg) is from each event's send to
	// its arrival.
	sendToArrival Latency
}

// MarshalJSON writes a skipped scenario as its name, its store and why it
// was skipped, without figures; any other as its fields.
func (r *Result) MarshalJSON() ([]byte, error) {
	if r.Skipped != "" {
		return json.Marshal(struct {
			Scenario string `json:"scenario"`
			Store    string `json:"store"`
			Skipped  string `json:"skipped"`
		}{r.Scenario, r.Store, r.Skipped})
	}
	type plain Result // without this method
	return json.Marshal((*plain)(r))
}

// Run runs the scenarios in order and returns their results. The baseline
// is measured first, once, in the same run; cpu and throughput also run the
// plain relay (see Relay) under the same load, after each server.
func Run(ctx context.Context, cfg Config) ([]*Result, error) {
	if cfg.FIFOEvents == 0 {
		cfg.FIFOEvents = DefaultFIFOEvents
	}
	if cfg.Duration <= 0 || cfg.Concurrency <= 0 || cfg.Rate <= 0 || cfg.Backlog <= 0 || cfg.Fanout <= 0 || cfg.Preload < 0 || cfg.FIFOEvents < 0 {
		return nil, errors.New("bench: duration, concurrency, rate, backlog, fanout and fifo events must be positive, preload not negative")
	}
	if len(cfg.CPURates) == 0 {
		cfg.CPURates = DefaultCPURates
	}
	if cfg.Nodes > 1 && cfg.DatabaseURL == "" {
		return nil, errors.New("--nodes: more than one node needs PostgreSQL (--database-url): SQLite's store is one server's file")
	}
	if cfg.Nodes < 0 || cfg.Nodes > 16 {
		return nil, errors.New("--nodes must be between 1 and 16")
	}
	if cfg.DatabaseURL != "" {
		probe, err := newDBProbe(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, err
		}
		defer probe.close()
		cfg.probe = probe
	}
	cfg.Brokers = cfg.Brokers.withDefaults()
	for _, name := range cfg.Scenarios {
		if k, ok := brokerKinds[name]; ok {
			if err := checkBrokerURL(k, k.url(cfg.Brokers)); err != nil {
				return nil, err
			}
		}
	}
	progress := cfg.Progress
	if progress == nil {
		progress = func(string, string, int, int) {}
	}
	cfg.Progress = progress
	progress("baseline", "plain HTTP client", 0, 1)
	base, err := baseline(min(cfg.Duration, 5*time.Second), cfg.Concurrency)
	if err != nil {
		return nil, err
	}
	progress("baseline", "done", 1, 1)
	store := "sqlite"
	if cfg.DatabaseURL != "" {
		store = "postgres"
	}
	var out []*Result
	var throughput, noFilters *Result
	for _, name := range cfg.Scenarios {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		if _, ok := brokerKinds[name]; ok {
			r, err := runBroker(ctx, cfg, name)
			if err != nil {
				return out, fmt.Errorf("%s: %w", name, err)
			}
			r.Scenario, r.Store = name, store
			if r.Skipped != "" {
				progress(name, "skipped: "+r.Skipped, 1, 1)
			} else {
				r.BaselineRequestsPerS, r.RatioToBaseline = base, r.DeliveriesPerS/base
				r.Nodes = 1 // the broker scenarios run one server
			}
			out = append(out, r)
			continue
		}
		rates := []int{0}
		switch name {
		case "cpu":
			rates = cfg.CPURates
		case "fifo":
			rates = FIFOKeys
		case "filters":
			rates = filterRuns()
		}
		for i, rate := range rates {
			r, err := runScenario(ctx, cfg, name, rate, name == "cpu" && i == 0)
			if err != nil {
				return out, fmt.Errorf("%s: %w", name, err)
			}
			r.Scenario, r.Store, r.BaselineRequestsPerS = name, store, base
			r.RatioToBaseline = r.DeliveriesPerS / base
			if name == "cpu" || name == "throughput" {
				rel, err := runRelay(ctx, cfg, name, rate)
				if err != nil {
					return out, fmt.Errorf("%s: relay: %w", name, err)
				}
				compareToRelay(r, rel)
			}
			if name == "throughput" {
				throughput = r
			}
			if name == "fifo" {
				keys := rate
				r.FIFOKeys = &keys
				if throughput != nil && throughput.DeliveriesPerS > 0 {
					v := r.DeliveriesPerS / throughput.DeliveriesPerS
					r.VsThroughput = &v
				}
			}
			if name == "filters" {
				noFilters = compareFilters(r, rate, noFilters)
			}
			if name == "slow-receiver" {
				if throughput != nil && throughput.DeliveriesPerS > 0 {
					v := r.DeliveriesPerS / throughput.DeliveriesPerS
					r.OthersVsThroughput = &v
				}
				pair, err := runScenario(ctx, cfg, healthyPair, 0, false)
				if err != nil {
					return out, fmt.Errorf("%s: %w", healthyPair, err)
				}
				if pair.DeliveriesPerS > 0 {
					v := r.DeliveriesPerS / pair.DeliveriesPerS
					r.PairDeliveriesPerS, r.OthersVsPair = &pair.DeliveriesPerS, &v
				}
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// healthyPair is slow-receiver's reference, run after it: the same load
// with a second healthy endpoint (/extra, not counted) where the slow one was.
const healthyPair = "slow-receiver reference"

// spec is what distinguishes scenarios.
type spec struct {
	endpoints int  // webhooks to /ok/{i}
	slow      bool // one more, to /slow, which outlasts the send timeout; not counted
	extra     bool // one more, to /extra, healthy; not counted
	down      bool
	batch     int
	drive     func(ctx context.Context, l *loader)
	timed     bool
	producers int // connections drive uses (throughput, cpu), for the relay's pool
	fifoKeys  int // the webhooks deliver in order per key, over this many keys
	// filter, when set, is webhook i's filter.
	filter func(i int) string
	// passOne: each event passes one webhook's filter (filters, pass-one),
	// the loader's event i that of webhook i modulo the endpoints.
	passOne bool
}

// ParseScenarios reads a comma-separated list of scenarios, where "all"
// stands for Scenarios and "brokers" for BrokerScenarios; empty is "all".
func ParseScenarios(s string) ([]string, error) {
	if s == "" {
		s = "all"
	}
	var out []string
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		switch {
		case n == "all":
			out = append(out, Scenarios...)
		case n == "brokers":
			out = append(out, BrokerScenarios...)
		case slices.Contains(Scenarios, n) || slices.Contains(BrokerScenarios, n):
			out = append(out, n)
		default:
			return nil, fmt.Errorf("--scenario: unknown scenario %q; use all, brokers or some of %s", n, strings.Join(append(slices.Clone(Scenarios), BrokerScenarios...), ", "))
		}
	}
	return out, nil
}

// backlogSchedule retries every 1 to 10 seconds for about 8 minutes, so that
// deliveries failed while the receiver was down are sent soon after it comes
// back, and none is exhausted while it is down.
var backlogSchedule = "1s,1s,2s,5s" + strings.Repeat(",10s", 46)

// specOf returns what distinguishes scenario name; rate is the cpu
// scenario's offered rate.
func specOf(cfg Config, name string, rate int) (spec, error) {
	sp := spec{endpoints: 1, batch: 1, timed: true}
	switch name {
	case "throughput":
		sp.producers = cfg.Concurrency
		sp.drive = func(ctx context.Context, l *loader) { l.flood(ctx, cfg.Concurrency, 1, 0) }
	case "fanout":
		sp.endpoints = cfg.Fanout
		sp.drive = func(ctx context.Context, l *loader) { l.flood(ctx, cfg.Concurrency, 1, 0) }
	case "latency":
		sp.drive = func(ctx context.Context, l *loader) { l.steady(ctx, cfg.Rate, max(cfg.Concurrency, cfg.Rate/10)) }
	case "batch-ingest":
		sp.batch = 100
		sp.drive = func(ctx context.Context, l *loader) { l.flood(ctx, max(1, cfg.Concurrency/8), 100, 0) }
	case "backlog":
		sp.down, sp.batch, sp.timed = true, 1000, false
		sp.drive = func(ctx context.Context, l *loader) { l.flood(ctx, 4, 1000, cfg.Backlog) }
	case "slow-receiver":
		sp.slow = true
		sp.drive = func(ctx context.Context, l *loader) { l.flood(ctx, cfg.Concurrency, 1, 0) }
	case healthyPair:
		sp.extra = true
		sp.drive = func(ctx context.Context, l *loader) { l.flood(ctx, cfg.Concurrency, 1, 0) }
	case "fifo":
		sp.fifoKeys, sp.timed = rate, false
		sp.drive = func(ctx context.Context, l *loader) { l.floodKeyed(ctx, cfg.Concurrency, rate, cfg.FIFOEvents) }
	case "filters":
		sp = filterSpec(cfg, rate)
	case "cpu":
		producers := max(cfg.Concurrency, rate/10)
		sp.producers = producers
		sp.drive = func(ctx context.Context, l *loader) { l.steady(ctx, rate, producers) }
	default:
		return spec{}, fmt.Errorf("unknown scenario")
	}
	return sp, nil
}

// scenarioLabel names a scenario's run in progress reports.
func scenarioLabel(name string, rate int) string {
	switch name {
	case "cpu":
		return fmt.Sprintf("cpu@%d/s", rate)
	case "fifo":
		return fifoLabel(rate)
	case "filters":
		return filtersLabel(rate)
	}
	return name
}

// scenarioSendTimeout is every scenario's server's --send-timeout.
const scenarioSendTimeout = 2 * time.Second

// runScenario runs one scenario on a server of its own; rate is the cpu
// scenario's offered rate, and idle has it measure the idle server first.
func runScenario(ctx context.Context, cfg Config, name string, rate int, idle bool) (*Result, error) {
	sp, err := specOf(cfg, name, rate)
	if err != nil {
		return nil, err
	}
	label := scenarioLabel(name, rate)
	rec, err := newReceiver(sp.down, scenarioSendTimeout+time.Second)
	if err != nil {
		return nil, err
	}
	defer rec.close()
	srv, err := startServer(ctx, serverOptions{executable: cfg.Executable, databaseURL: cfg.DatabaseURL, sendTimeout: scenarioSendTimeout, schedule: backlogSchedule, pprofAddr: cfg.PprofAddr, nodes: cfg.Nodes})
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	var urls []string
	for i := range sp.endpoints {
		urls = append(urls, rec.url(fmt.Sprintf("/ok/%d", i)))
	}
	if sp.slow {
		urls = append(urls, rec.url("/slow"))
	}
	if sp.extra {
		urls = append(urls, rec.url("/extra"))
	}
	ins := make([]client.WebhookCreate, len(urls))
	for i, u := range urls {
		ins[i] = client.WebhookCreate{URL: u}
		if sp.fifoKeys > 0 {
			ins[i].Ordering, ins[i].OrderingKey = client.OrderingFIFO, "/data/k"
		}
		if sp.filter != nil && i < sp.endpoints {
			ins[i].Filter = sp.filter(i)
		}
	}
	key, ids, err := srv.setupWebhooks(ins)
	if err != nil {
		return nil, err
	}
	counted := ids[:sp.endpoints] // the slow or extra endpoint's deliveries are not counted
	if cfg.Preload > 0 {
		cfg.Progress(label, "preload", 0, 1)
		if err := srv.preload(ctx, cfg.Preload, ids[0]); err != nil {
			return nil, err
		}
		cfg.Progress(label, "preload", 1, 1)
	}
	var idlePct *float64
	if idle {
		cfg.Progress(label, "idle", 0, 1)
		v := idleCPU(srv.cmd.Process.Pid)
		idlePct = &v
		cfg.Progress(label, "idle", 1, 1)
	}
	l := newLoader(srv.bases(), key, sp.batch > 1, cfg.Concurrency)
	if sp.passOne {
		l.only = counted
	}
	r, err := loadAndMeasure(ctx, cfg, label, sp, l, rec, counted, srv.pids(), cfg.probe)
	if err != nil {
		return nil, err
	}
	r.Nodes = len(srv.pids())
	if r.Nodes > 1 {
		if r.AttemptsByNode, err = srv.attemptsByNode(ctx); err != nil {
			return nil, fmt.Errorf("attempts by node: %w", err)
		}
	}
	if sp.passOne {
		n := max(0, rec.counted()-len(r.latencies))
		r.Unfiltered = &n
		// Each accepted event was rejected by every webhook's filter but one.
		counts, err := srv.filterCounts(ctx, len(l.snapshot())*(sp.endpoints-1))
		if err != nil {
			return nil, fmt.Errorf("filter counts: %w", err)
		}
		r.FilterRejected, r.FilterFailed = &counts.Rejected, &counts.Failed
	}
	r.Endpoints, r.RSSMBPeak, r.IdleCPUPct = len(urls), srv.rss.Peak(), idlePct
	if name == "cpu" {
		v := float64(rate)
		r.OfferedPerS = &v
	}
	return r, nil
}

// idleCPU is process pid's CPU over 3 s, in percent of one core, after a
// second for its start-up work to settle.
func idleCPU(pid int) float64 {
	time.Sleep(time.Second)
	c0, t0 := readCPU(pid), time.Now()
	time.Sleep(3 * time.Second)
	return 100 * float64(readCPU(pid).since(c0)) / float64(time.Since(t0))
}

// runRelay runs the plain relay, on a receiver of its own, under the load
// that scenario name offers Hookgate, and measures it as runScenario
// measures a server.
func runRelay(ctx context.Context, cfg Config, name string, rate int) (*Result, error) {
	sp, err := specOf(cfg, name, rate)
	if err != nil {
		return nil, err
	}
	rec, err := newReceiver(false, 0)
	if err != nil {
		return nil, err
	}
	defer rec.close()
	// Twice the producers, as the loader keeps: a forward outlives its
	// event's answer, so more may be in flight than there are producers.
	args := []string{"bench-relay", "--addr", "127.0.0.1:0", "--target", rec.url("/relay"), "--conns", strconv.Itoa(2 * sp.producers)}
	p, err := startProcess(ctx, cfg.Executable, args, os.Environ())
	if err != nil {
		return nil, err
	}
	defer p.stop()
	l := newLoader([]string{p.base}, "", false, cfg.Concurrency)
	// The relay has no webhooks: its deliveries are keyed deliveryKey(event, "").
	r, err := loadAndMeasure(ctx, cfg, scenarioLabel(name, rate)+" relay", sp, l, rec, []string{""}, []int{p.cmd.Process.Pid}, nil)
	if err != nil {
		return nil, err
	}
	if r.Lost > 0 || r.Errors > 0 {
		return nil, fmt.Errorf("%d events not accepted, %d lost: no fair reference", r.Errors, r.Lost)
	}
	return r, nil
}

// compareToRelay sets r's relay figures from rel, the relay's run under the
// same load: its CPU per delivery and the bench's cores, and the ratio of
// CPU for cpu, of deliveries/s for throughput. A figure the relay did not
// measure (no CPU time read) stays null.
func compareToRelay(r, rel *Result) {
	if v := rel.CPUMsPerDelivery; v > 0 {
		r.RelayCPUMsPerDelivery = &v
		if r.Scenario == "cpu" {
			ratio := r.CPUMsPerDelivery / v
			r.CPUVsRelay = &ratio
		}
	}
	load := rel.LoadCores
	r.RelayLoadCores = &load
	if v := rel.DeliveriesPerS; v > 0 && r.Scenario == "throughput" {
		ratio := r.DeliveriesPerS / v
		r.RelayDeliveriesPerS, r.RatioToRelay = &v, &ratio
	}
}

// loadAndMeasure offers sp's load through l, waits for the deliveries to
// hooks to reach rec, and measures them, with the CPU time and disk writes
// of the processes pids (summed) and, with a probe, what PostgreSQL spent,
// from the start of load to the last delivery.
func loadAndMeasure(ctx context.Context, cfg Config, label string, sp spec, l *loader, rec *receiver, hooks []string, pids []int, probe *dbProbe) (*Result, error) {
	cfg.Progress(label, "load", 0, 1)
	var db0 dbReading
	if probe != nil {
		var err error
		if db0, err = probe.read(ctx); err != nil {
			return nil, fmt.Errorf("read PostgreSQL's figures: %w", err)
		}
	}
	cpu0, written0, self0 := readCPUs(pids), readWrites(pids), readCPU(os.Getpid())
	start := time.Now()
	loadCtx, cancel := context.WithCancel(ctx)
	stopTicker := func() {}
	if sp.timed {
		loadCtx, cancel = context.WithTimeout(ctx, cfg.Duration)
		stopTicker = tick(cfg.Duration, func(done, total int) { cfg.Progress(label, "load", done, total) })
	}
	sp.drive(loadCtx, l)
	cancel()
	stopTicker() // the deliver phase reports from here on
	loadEnd := time.Now()
	var upAt time.Time
	if sp.down {
		upAt = time.Now()
		if err := rec.up(); err != nil {
			return nil, err
		}
	}
	acc := l.snapshot()
	if err := waitDeliveries(ctx, cfg, label, rec, acc, hooks); err != nil {
		return nil, err
	}
	cpu, written, self := cpusSince(readCPUs(pids), cpu0), readWrites(pids), readCPU(os.Getpid()).since(self0)
	wall := time.Since(start)
	var db1 dbReading
	if probe != nil {
		var err error
		if db1, err = probe.read(ctx); err != nil {
			return nil, fmt.Errorf("read PostgreSQL's figures: %w", err)
		}
	}
	r := &Result{Errors: int(l.errors.Load())}
	measure(r, rec, acc, hooks, start, loadEnd, upAt)
	n := len(r.latencies)
	if n > 0 {
		r.CPUMsPerDelivery = float64(cpu) / float64(time.Millisecond) / float64(n)
		if written >= 0 && written0 >= 0 {
			v := float64(written-written0) / float64(n)
			r.DiskBytesPerDelivery = &v
		}
	}
	r.CPUCores = float64(cpu) / float64(wall)
	r.LoadCores = float64(self) / float64(wall)
	if probe != nil {
		r.Postgres = probe.figures(ctx, db0, db1, n)
	}
	return r, nil
}

// readCPUs reads the CPU time of each of pids.
func readCPUs(pids []int) []cpuReading {
	out := make([]cpuReading, len(pids))
	for i, pid := range pids {
		out[i] = readCPU(pid)
	}
	return out
}

// cpusSince sums the CPU time each process used from r0 to r.
func cpusSince(r, r0 []cpuReading) time.Duration {
	var sum time.Duration
	for i := range r {
		sum += r[i].since(r0[i])
	}
	return sum
}

// readWrites sums the write_bytes of pids; -1 when one cannot be read.
func readWrites(pids []int) int64 {
	var sum int64
	for _, pid := range pids {
		n := readWriteBytes(pid)
		if n < 0 {
			return -1
		}
		sum += n
	}
	return sum
}

// waitDeliveries waits until every accepted event reached rec at each of
// hooks (or at the one webhook it is meant for, see accepted.only), or none
// came for 20 s.
func waitDeliveries(ctx context.Context, cfg Config, label string, rec *receiver, acc []accepted, hooks []string) error {
	want := 0
	for _, a := range acc {
		want += len(a.hooks(hooks))
	}
	lastCount, lastProgress := -1, time.Now()
	for {
		// The receiver's running count is cheap; the exact count, per
		// accepted event, is taken only when that one says all are in.
		n := min(rec.counted(), want)
		if n == want {
			if n = countArrivals(rec, acc, hooks); n >= want {
				cfg.Progress(label, "deliver", n, want)
				return nil
			}
		}
		cfg.Progress(label, "deliver", n, want)
		if n != lastCount {
			lastCount, lastProgress = n, time.Now()
		} else if time.Since(lastProgress) > 20*time.Second {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// tick calls fn every 200 ms with the elapsed share of d, until stopped.
func tick(d time.Duration, fn func(done, total int)) func() {
	start := time.Now()
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fn(int(min(time.Since(start), d)/time.Millisecond), int(d/time.Millisecond))
			}
		}
	}()
	return func() { close(done) }
}

// deliveryKey is the webhook-id of an event's delivery to a webhook (both
// IDs without their prefixes).
func deliveryKey(event, webhook string) string { return "msg_" + event + webhook }

func countArrivals(rec *receiver, acc []accepted, hooks []string) int {
	got, _ := rec.snapshot()
	n := 0
	for _, a := range acc {
		for _, h := range a.hooks(hooks) {
			if _, ok := got[deliveryKey(a.id, h)]; ok {
				n++
			}
		}
	}
	return n
}

// measure fills r's figures from what the receiver got.
func measure(r *Result, rec *receiver, acc []accepted, hooks []string, start, loadEnd, upAt time.Time) {
	got, repeats := rec.snapshot()
	r.Duplicates = repeats
	r.DurationS = loadEnd.Sub(start).Seconds()
	if r.DurationS > 0 {
		r.EventsPerS = float64(len(acc)) / r.DurationS
	}
	var last time.Time
	var lat []time.Duration
	took := make([]time.Duration, 0, len(acc))
	seconds := int(math.Ceil(loadEnd.Sub(start).Seconds()))
	deliveries := make([]int, seconds)
	accepts := make([]int, seconds)
	for _, a := range acc {
		took = append(took, a.took)
		if s := int(a.at.Sub(start).Seconds()); s >= 0 && s < len(accepts) {
			accepts[s]++
		}
		missing := false
		for _, h := range a.hooks(hooks) {
			at, ok := got[deliveryKey(a.id, h)]
			if !ok {
				missing = true
				continue
			}
			lat = append(lat, max(0, at.Sub(a.at)))
			if at.After(last) {
				last = at
			}
			s := int(at.Sub(start).Seconds())
			for s >= len(deliveries) {
				deliveries = append(deliveries, 0)
			}
			if s >= 0 {
				deliveries[s]++
			}
		}
		if missing {
			r.Lost++
		}
	}
	r.DeliveriesSeries, r.AcceptedSeries, r.SeriesStepS = deliveries, accepts, 1
	from := start
	if !upAt.IsZero() {
		from = upAt
		d := last.Sub(upAt).Seconds()
		r.DrainS = &d
	}
	if len(lat) > 0 && last.After(from) {
		r.DeliveriesPerS = float64(len(lat)) / last.Sub(from).Seconds()
	}
	slices.Sort(lat)
	r.latencies = lat
	r.LatencyMs = percentiles(lat)
	slices.Sort(took)
	r.AcceptMs = percentiles(took)
}

func percentiles(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	q := func(p float64) float64 {
		return float64(d[int(math.Ceil(p*float64(len(d))))-1]) / float64(time.Millisecond)
	}
	return Latency{P50: q(0.5), P90: q(0.9), P99: q(0.99), Max: q(1)}
}

// DefaultFIFOEvents is the fifo scenario's events at each number of keys:
// one key's are sent one at a time, so a few thousand take seconds.
const DefaultFIFOEvents = 3000

// fifoLabel names the fifo scenario's run over keys ordering keys.
func fifoLabel(keys int) string {
	if keys == 1 {
		return "fifo@1key"
	}
	return fmt.Sprintf("fifo@%dkeys", keys)
}
