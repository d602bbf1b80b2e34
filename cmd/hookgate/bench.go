package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/hookgate/hookgate/bench"
)

func newBenchCmd() *cobra.Command {
	var (
		cfg                 bench.Config
		scenarios, jsonPath string
		plotPath            string
		quiet               bool
		pgTop               int
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure this binary on this machine: throughput, latency, scale and memory against a same-run baseline",
		Long: `bench starts this binary's "serve" as a subprocess (SQLite in a temporary directory,
or PostgreSQL with --database-url, in a schema of its own), a receiver and a load
generator, all on loopback, runs the scenarios and stops them all. Every figure is also
given as a ratio to a plain HTTP client posting to the same kind of receiver at the same
concurrency in the same run. It exits non-zero when an accepted event was lost.

Scenarios: throughput, fanout, latency, batch-ingest, backlog, slow-receiver, cpu, fifo,
filters (or all), and the broker scenarios broker-redis-stream, broker-nats, broker-amqp,
broker-mqtt (or brokers; all does not run them). cpu offers each of --cpu-rates on a server of its own and reports the server
process's CPU time per delivery (every scenario reports it too), and the idle server's CPU.
fifo sends --fifo-events events to one webhook with ordering fifo, over 1 key and then
over 100 keys (a server each), and compares its deliveries/s with throughput's.
filters offers fanout's load (--fanout webhooks) with events of about 1 KiB three times,
a server each: without filters (none), with a filter on each webhook that every event
passes (pass-all), and with a filter on each that one webhook's events alone pass
(pass-one); it reports each run's events/s over none's.

Every scenario also reports, per delivery, the server processes' disk writes
(write_bytes in /proc/{pid}/io) and the cores kept busy by the servers and by the
bench itself (load generator and receiver). With --database-url it reports what
PostgreSQL spent: the CPU of every postgres process on this machine ("-" when the
database is elsewhere), the WAL written (pg_current_wal_lsn's advance), those processes'
disk writes, and the statements pg_stat_statements counted in the database for its
user, with the --pg-top statements that took the most time. It creates the
pg_stat_statements extension when it can, and says so when it cannot; the figures of the
server and of statements count other clients of the same server, database and user too:
give the bench a database of its own on a quiet server.

--nodes N (PostgreSQL only) runs each engine scenario on N servers sharing one schema,
each with a data dir and a port of its own and the same admin and encryption keys, the
producers' requests spread round-robin over them; the CPU columns sum the N servers, and
the attempts each node made are counted.

cpu and throughput also run a plain relay (this binary's hidden bench-relay: HTTP in,
202, HTTP out, no store, no signing) under the same load in the same run, and report its
CPU per delivery and deliveries/s beside Hookgate's: the cost of the least a gateway does.

A broker scenario delivers to this machine's broker of its kind (--redis-url,
--nats-url, --amqp-url, --mqtt-url: loopback only) and reads what arrives with the
broker's own client, in four runs beside an HTTP receiver's: deliveries/s under
throughput's flood, and the latency from each event's send to its arrival at --rate.
It makes a stream, exchange and queue, or topic of its own and deletes it after. A kind
whose broker does not answer, or that this build has no destination for, is skipped,
with a line saying so.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if cfg.Scenarios, err = bench.ParseScenarios(scenarios); err != nil {
				return err
			}
			if cfg.Duration < time.Second {
				return fmt.Errorf("--duration must be at least 1s")
			}
			if cfg.Concurrency < 1 || cfg.Concurrency > 4096 {
				return fmt.Errorf("--concurrency must be between 1 and 4096")
			}
			if cfg.Rate < 1 || cfg.Backlog < 1 || cfg.Fanout < 1 || cfg.Fanout > 1000 {
				return fmt.Errorf("--rate and --backlog must be positive, --fanout between 1 and 1000")
			}
			for _, r := range cfg.CPURates {
				if r < 1 || r > 100000 {
					return fmt.Errorf("--cpu-rates: %d is not between 1 and 100000", r)
				}
			}
			if cfg.Nodes < 1 || cfg.Nodes > 16 {
				return fmt.Errorf("--nodes must be between 1 and 16")
			}
			if cfg.Nodes > 1 && cfg.DatabaseURL == "" {
				return fmt.Errorf("--nodes %d needs PostgreSQL (--database-url): on SQLite the store is one server's file", cfg.Nodes)
			}
			if pgTop < 0 {
				return fmt.Errorf("--pg-top must not be negative")
			}
			if cfg.Preload < 0 || cfg.Preload > 100_000_000 {
				return fmt.Errorf("--preload must be between 0 and 100000000")
			}
			if cfg.Executable, err = os.Executable(); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			var bars *progressBars
			switch {
			case quiet:
			case isTerminal(cmd.ErrOrStderr()):
				bars = newProgressBars(cmd.ErrOrStderr())
				cfg.Progress = bars.update
			default:
				// A log or a pipe gets one line per phase, not redrawn bars.
				cfg.Progress = phaseLines(cmd.ErrOrStderr())
			}
			started := time.Now()
			results, err := bench.Run(ctx, cfg)
			if bars != nil {
				bars.wait()
			}
			if len(results) > 0 {
				if werr := bench.WriteTable(cmd.OutOrStdout(), results); werr != nil {
					return werr
				}
				bench.WriteStatements(cmd.OutOrStdout(), results, pgTop)
				if werr := writeFile(jsonPath, func(w io.Writer) error { return bench.WriteJSON(w, bench.ParametersOf(cfg, version, started), results) }); werr != nil {
					return werr
				}
				title := fmt.Sprintf("hookgate bench, %s, %s", results[0].Store, time.Now().UTC().Format(time.RFC3339))
				if werr := writeFile(plotPath, func(w io.Writer) error { return bench.WriteSVG(w, results, title) }); werr != nil {
					return werr
				}
			}
			if err != nil {
				return err
			}
			return bench.Check(results)
		},
	}
	f := cmd.Flags()
	f.StringVar(&scenarios, "scenario", "all", "scenarios to run, comma-separated; all for the engine's, brokers for the broker-<kind> ones")
	f.StringVar(&cfg.DatabaseURL, "database-url", "", "benchmark on this PostgreSQL database (in a new schema, dropped at the end); empty for SQLite")
	f.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long load is offered in each timed scenario")
	f.IntVar(&cfg.Concurrency, "concurrency", 64, "producer connections, and the baseline's")
	f.IntVar(&cfg.Rate, "rate", 1000, "events a second offered by the latency scenario")
	f.IntVar(&cfg.Backlog, "backlog", 100000, "events queued by the backlog scenario while the receiver is down")
	f.IntVar(&cfg.Fanout, "fanout", 100, "endpoints of the fanout and filters scenarios")
	f.IntVar(&cfg.FIFOEvents, "fifo-events", bench.DefaultFIFOEvents, "events offered by the fifo scenario at each number of keys (1 and 100)")
	f.IntSliceVar(&cfg.CPURates, "cpu-rates", bench.DefaultCPURates, "events a second offered by the cpu scenario, one server each")
	f.IntVar(&cfg.Preload, "preload", 0, "finished deliveries (with their events and an attempt each) written to each scenario's store before its load")
	f.IntVar(&cfg.Nodes, "nodes", 1, "servers each scenario runs on one PostgreSQL schema (needs --database-url), the load spread over them round-robin; the broker scenarios run one")
	f.IntVar(&pgTop, "pg-top", 5, "on PostgreSQL, print each scenario's this many statements that took the most time (from pg_stat_statements; --json keeps 10)")
	f.StringVar(&jsonPath, "json", "", "write the results to this file as JSON")
	f.StringVar(&plotPath, "plot", "", "write an SVG plot (latency distribution, deliveries/s over time) to this file")
	f.BoolVar(&quiet, "quiet", false, "no progress on stderr (when stderr is not a terminal, one line per phase instead of bars)")
	f.StringVar(&cfg.Brokers.RedisURL, "redis-url", bench.DefaultRedisURL, "broker-redis-stream's Redis")
	f.StringVar(&cfg.Brokers.NATSURL, "nats-url", bench.DefaultNATSURL, "broker-nats's NATS server, with JetStream")
	f.StringVar(&cfg.Brokers.AMQPURL, "amqp-url", bench.DefaultAMQPURL, "broker-amqp's AMQP 0-9-1 broker and virtual host")
	f.StringVar(&cfg.Brokers.AMQPUsername, "amqp-username", "guest", "broker-amqp's user")
	f.StringVar(&cfg.Brokers.AMQPPassword, "amqp-password", "guest", "broker-amqp's password")
	f.StringVar(&cfg.Brokers.MQTTURL, "mqtt-url", bench.DefaultMQTTURL, "broker-mqtt's MQTT 5 broker")
	f.StringVar(&cfg.PprofAddr, "pprof-addr", "", "run each server with --pprof-addr at this address, to profile it during a scenario")
	return cmd
}

// newBenchRelayCmd is the plain relay that bench measures beside serve; it
// is hidden, being of use to bench alone.
func newBenchRelayCmd() *cobra.Command {
	var addr, target string
	var conns int
	cmd := &cobra.Command{
		Use:    "bench-relay",
		Short:  "Run the plain relay that bench compares Hookgate with",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
			relay, err := bench.NewRelay(target, conns, log)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			srv := &http.Server{Handler: relay, ReadHeaderTimeout: 10 * time.Second}
			go func() { _ = srv.Serve(ln) }()
			// The line bench reads, as it reads serve's.
			log.Info("hookgate listening", "addr", ln.Addr().String())
			<-ctx.Done()
			shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err = srv.Shutdown(shutdownCtx)
			relay.Wait()
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:0", "listen address")
	f.StringVar(&target, "target", "", "the receiver's URL, http:// on a loopback IP; every event goes there")
	f.IntVar(&conns, "conns", 64, "idle connections kept to the target")
	return cmd
}

func writeFile(path string, write func(io.Writer) error) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// progressBars shows one bar per scenario phase on stderr.
type progressBars struct {
	p         *mpb.Progress
	mu        sync.Mutex
	bars      map[string]*mpb.Bar
	last      *mpb.Bar
	lastTotal int64
}

func newProgressBars(w io.Writer) *progressBars {
	return &progressBars{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(40), mpb.WithRefreshRate(200*time.Millisecond), mpb.WithAutoRefresh()), bars: map[string]*mpb.Bar{}}
}

func (b *progressBars) update(scenario, phase string, done, total int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	name := scenario + " " + phase
	bar, ok := b.bars[name]
	if !ok {
		if b.last != nil && !b.last.Completed() {
			b.last.SetCurrent(b.lastTotal) // the previous phase is over
			b.last.SetTotal(b.lastTotal, true)
		}
		bar = b.p.AddBar(int64(max(total, 1)),
			mpb.PrependDecorators(decor.Name(name, decor.WC{W: 26, C: decor.DindentRight})),
			mpb.AppendDecorators(decor.Percentage(decor.WC{W: 5}), decor.Elapsed(decor.ET_STYLE_GO, decor.WC{W: 6})))
		b.bars[name], b.last = bar, bar
	}
	b.lastTotal = int64(max(total, 1))
	bar.SetTotal(b.lastTotal, false)
	bar.SetCurrent(int64(done))
	if done >= total && total > 0 {
		bar.SetTotal(int64(total), true)
	}
}

func (b *progressBars) wait() {
	b.mu.Lock()
	if b.last != nil && !b.last.Completed() {
		b.last.SetCurrent(b.lastTotal)
	}
	for _, bar := range b.bars {
		if !bar.Completed() {
			bar.SetTotal(-1, true)
		}
	}
	b.mu.Unlock()
	b.p.Wait()
}

// isTerminal reports whether w is a terminal, where bars can be redrawn.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// phaseLines reports progress as one line each time a phase begins.
func phaseLines(w io.Writer) func(scenario, phase string, done, total int) {
	var mu sync.Mutex
	last := ""
	return func(scenario, phase string, _, _ int) {
		mu.Lock()
		defer mu.Unlock()
		if name := scenario + " " + phase; name != last {
			last = name
			fmt.Fprintf(w, "bench: %s: %s\n", time.Now().UTC().Format(time.TimeOnly), name)
		}
	}
}
