package main_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/hookgate/hookgate/internal/testredis"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// TestBenchCommand runs every scenario of hookgate bench briefly on each
// engine, on stores preloaded with finished deliveries, and checks its JSON,
// its plot and its table. It takes about a minute, so -short (make
// test-short) skips it.
func TestBenchCommand(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: runs every bench scenario on each engine, about a minute")
	}
	bin := buildBinary(t)
	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"bench", "--scenario", "all", "--duration", "1s", "--concurrency", "8", "--rate", "200",
				"--backlog", "2000", "--fanout", "5", "--cpu-rates", "50,100", "--fifo-events", "200", "--preload", "2000", "--json", filepath.Join(dir, "r.json"), "--plot", filepath.Join(dir, "r.svg"), "--quiet"}
			if engine == "postgres" {
				args = append(args, "--database-url", os.Getenv(sqltest.EnvDatabaseURL))
			}
			cmd := exec.Command(bin, args...)
			cmd.Env = append(os.Environ(), "HOOKGATE_DATABASE_URL=", "HOOKGATE_ADMIN_KEY=")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("hookgate bench: %v\n%s", err, out)
			}
			if !strings.Contains(string(out), "ratio: deliveries/s over the baseline's requests/s") || strings.Contains(string(out), "bench: ") {
				t.Fatalf("the table says not what its ratio compares, or --quiet printed progress:\n%s", out)
			}
			raw, err := os.ReadFile(filepath.Join(dir, "r.json"))
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Parameters map[string]any   `json:"parameters"`
				Results    []map[string]any `json:"results"`
			}
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatalf("JSON: %v\n%s", err, raw)
			}
			results := doc.Results
			if p := doc.Parameters; p["store"] != engine || p["concurrency"] != float64(8) || p["rate"] != float64(200) || p["fanout"] != float64(5) ||
				p["duration_s"] != float64(1) || p["version"] == "" || len(p["scenarios"].([]any)) != 9 || p["preload"] != float64(2000) || p["fifo_events"] != float64(200) {
				t.Fatalf("parameters = %v", p)
			}
			want := []string{"throughput", "fanout", "latency", "batch-ingest", "backlog", "slow-receiver", "cpu", "cpu", "fifo", "fifo", "filters", "filters", "filters"}
			if len(results) != len(want) {
				t.Fatalf("%d results, want %d", len(results), len(want))
			}
			for i, r := range results {
				if r["scenario"] != want[i] || r["store"] != engine {
					t.Fatalf("result %d: %v %v", i, r["scenario"], r["store"])
				}
				for _, f := range []string{"duration_s", "events_per_s", "deliveries_per_s", "baseline_requests_per_s", "ratio_to_baseline", "rss_mb_peak"} {
					if v, ok := r[f].(float64); !ok || v <= 0 {
						t.Fatalf("%s: %s = %v", want[i], f, r[f])
					}
				}
				lat, _ := r["latency_ms"].(map[string]any)
				for _, f := range []string{"p50", "p90", "p99", "max"} {
					if _, ok := lat[f].(float64); !ok {
						t.Fatalf("%s: latency_ms.%s missing: %v", want[i], f, r["latency_ms"])
					}
				}
				if _, ok := r["cpu_ms_per_delivery"].(float64); !ok {
					t.Fatalf("%s: cpu_ms_per_delivery missing", want[i])
				}
				// What a delivery cost beyond the server's CPU: PostgreSQL's share on
				// PostgreSQL, and the cores of the bench's own process.
				if _, ok := r["load_cores"].(float64); !ok || (engine == "postgres") != (r["postgres"] != nil) {
					t.Fatalf("%s: load_cores %v, postgres %v", want[i], r["load_cores"], r["postgres"])
				}
				if r["series_step_s"] != float64(1) {
					t.Fatalf("%s: series_step_s = %v", want[i], r["series_step_s"])
				}
				if r["lost"] != float64(0) || r["errors"] != float64(0) {
					t.Fatalf("%s: lost %v, errors %v", want[i], r["lost"], r["errors"])
				}
			}
			if results[1]["endpoints"] != float64(5) || results[5]["others_vs_throughput"] == nil || results[4]["drain_s"] == nil {
				t.Fatalf("scenario figures: fanout endpoints %v, others %v, drain %v", results[1]["endpoints"], results[5]["others_vs_throughput"], results[4]["drain_s"])
			}
			// slow-receiver ran again with a healthy endpoint in place of the slow one.
			if pair, ok := results[5]["pair_deliveries_per_s"].(float64); !ok || pair <= 0 || results[5]["others_vs_pair"] == nil {
				t.Fatalf("slow-receiver reference: pair %v, others vs pair %v", results[5]["pair_deliveries_per_s"], results[5]["others_vs_pair"])
			}
			if !strings.Contains(string(out), "beside a second healthy endpoint instead of the slow one") {
				t.Fatalf("the table lacks the slow-receiver reference:\n%s", out)
			}
			if results[6]["offered_per_s"] != float64(50) || results[7]["offered_per_s"] != float64(100) || results[6]["idle_cpu_pct"] == nil || results[7]["idle_cpu_pct"] != nil {
				t.Fatalf("cpu figures: offered %v, %v; idle %v, %v", results[6]["offered_per_s"], results[7]["offered_per_s"], results[6]["idle_cpu_pct"], results[7]["idle_cpu_pct"])
			}
			if !strings.Contains(string(out), "cpu@100/s") || !strings.Contains(string(out), "the idle server used") {
				t.Fatalf("the table lacks the cpu rows:\n%s", out)
			}
			if results[8]["fifo_keys"] != float64(1) || results[9]["fifo_keys"] != float64(100) || results[8]["vs_throughput"] == nil ||
				!strings.Contains(string(out), "fifo@1key") || !strings.Contains(string(out), "fifo@100keys: ") {
				t.Fatalf("fifo figures: keys %v, %v; vs throughput %v; or the table lacks them:\n%s", results[8]["fifo_keys"], results[9]["fifo_keys"], results[8]["vs_throughput"], out)
			}
			// filters ran without filters, with filters every event passes,
			// and with filters that one webhook's events alone pass.
			for i, variant := range []string{"none", "pass-all", "pass-one"} {
				r := results[10+i]
				if r["filter_variant"] != variant || r["endpoints"] != float64(5) || (variant == "none") != (r["vs_no_filters"] == nil) || (variant == "pass-one") != (r["unfiltered"] != nil) {
					t.Fatalf("filters@%s figures: variant %v, endpoints %v, vs none %v, unfiltered %v", variant, r["filter_variant"], r["endpoints"], r["vs_no_filters"], r["unfiltered"])
				}
			}
			// pass-one's filters kept each event from every webhook but its own, and counted it.
			if r := results[12]; r["unfiltered"] != float64(0) || r["filter_failed"] != float64(0) {
				t.Fatalf("filters@pass-one: %v deliveries past a filter that rejects them, %v filters failed", r["unfiltered"], r["filter_failed"])
			} else if n, ok := r["filter_rejected"].(float64); !ok || n <= 0 {
				t.Fatalf("filters@pass-one: filter_rejected = %v", r["filter_rejected"])
			}
			if !strings.Contains(string(out), "filters@pass-all: ") || !strings.Contains(string(out), "× filters@none's events/s") {
				t.Fatalf("the table lacks the filters comparison:\n%s", out)
			}
			// The relay ran beside throughput and each cpu rate.
			relayFigures := map[int][]string{0: {"relay_deliveries_per_s", "ratio_to_relay", "relay_cpu_ms_per_delivery", "relay_load_cores"},
				6: {"relay_cpu_ms_per_delivery", "cpu_vs_relay", "relay_load_cores"}, 7: {"relay_cpu_ms_per_delivery", "cpu_vs_relay", "relay_load_cores"}}
			for i, r := range results {
				for _, f := range []string{"relay_deliveries_per_s", "ratio_to_relay", "relay_cpu_ms_per_delivery", "cpu_vs_relay", "relay_load_cores"} {
					v, ok := r[f].(float64)
					if expect := slices.Contains(relayFigures[i], f); expect != ok || ok && v <= 0 {
						t.Fatalf("%s: %s = %v; want it present and positive only for %v", want[i], f, r[f], relayFigures[i])
					}
				}
			}
			for _, s := range []string{"relay dlv/s", "relay CPU ms/dlv", "relay: a plain Go relay", "throughput: ", "× the relay's deliveries/s", "cpu@50/s: ",
				"throughput: machine CPU per delivery ", "a server costing the relay's CPU would reach at most "} {
				if !strings.Contains(string(out), s) {
					t.Fatalf("the table lacks %q:\n%s", s, out)
				}
			}
			f, err := os.Open(filepath.Join(dir, "r.svg"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			dec := xml.NewDecoder(f)
			for {
				if _, err := dec.Token(); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("the plot is not well-formed: %v", err)
				}
			}
			for _, s := range want {
				if !strings.Contains(string(out), s) {
					t.Fatalf("the table lacks %s:\n%s", s, out)
				}
			}
		})
	}
}

// TestBenchNodes runs the throughput scenario on two servers sharing one
// PostgreSQL schema, the load spread over both: nothing is lost, both nodes
// make attempts, and what PostgreSQL spent per delivery is reported.
func TestBenchNodes(t *testing.T) {
	t.Parallel()
	if len(sqltest.Engines(t)) < 2 {
		t.Skip("needs PostgreSQL")
	}
	bin := buildBinary(t)
	jsonPath := filepath.Join(t.TempDir(), "r.json")
	cmd := exec.Command(bin, "bench", "--scenario", "throughput", "--nodes", "2", "--duration", "1s", "--concurrency", "8", "--quiet",
		"--database-url", os.Getenv(sqltest.EnvDatabaseURL), "--json", jsonPath)
	cmd.Env = append(os.Environ(), "HOOKGATE_DATABASE_URL=", "HOOKGATE_ADMIN_KEY=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("hookgate bench --nodes 2: %v\n%s", err, out)
	}
	var doc struct {
		Parameters struct{ Nodes int }
		Results    []struct {
			Scenario       string
			Nodes          int
			Lost           int
			DeliveriesPerS float64        `json:"deliveries_per_s"`
			AttemptsByNode map[string]int `json:"attempts_by_node"`
			Postgres       *struct {
				WALBytesPerDelivery   float64  `json:"wal_bytes_per_delivery"`
				CPUMsPerDelivery      *float64 `json:"cpu_ms_per_delivery"`
				StatementsPerDelivery *float64 `json:"statements_per_delivery"`
				TopStatements         []struct {
					Query string
					Calls int
				} `json:"top_statements"`
				Notes []string
			}
		}
	}
	if err := json.Unmarshal([]byte(readFile(t, jsonPath)), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Parameters.Nodes != 2 || len(doc.Results) != 1 {
		t.Fatalf("parameters: %d nodes, %d results", doc.Parameters.Nodes, len(doc.Results))
	}
	r := doc.Results[0]
	if r.Scenario != "throughput" || r.Nodes != 2 || r.Lost != 0 || r.DeliveriesPerS <= 0 {
		t.Fatalf("throughput on 2 nodes: %+v", r)
	}
	if len(r.AttemptsByNode) != 2 {
		t.Fatalf("attempts by node: %v; want both nodes' attempts", r.AttemptsByNode)
	}
	for node, n := range r.AttemptsByNode {
		if n <= 0 {
			t.Fatalf("node %s made %d attempts", node, n)
		}
	}
	p := r.Postgres
	if p == nil || p.WALBytesPerDelivery <= 0 {
		t.Fatalf("PostgreSQL's figures: %+v", p)
	}
	// The database is on this machine in the test set-up; pg_stat_statements
	// may not be loaded, in which case a note says so.
	if p.CPUMsPerDelivery == nil && len(p.Notes) == 0 || p.StatementsPerDelivery == nil && len(p.Notes) == 0 {
		t.Fatalf("a PostgreSQL figure is missing without a note: %+v", p)
	}
	if p.StatementsPerDelivery != nil && (*p.StatementsPerDelivery <= 0 || len(p.TopStatements) == 0 || p.TopStatements[0].Calls <= 0) {
		t.Fatalf("statements: %v a delivery, top %+v", *p.StatementsPerDelivery, p.TopStatements)
	}
	for _, s := range []string{"2 nodes; attempts by node: ", "PostgreSQL CPU "} {
		if !strings.Contains(string(out), s) {
			t.Fatalf("the output lacks %q:\n%s", s, out)
		}
	}
}

// TestBenchBrokerScenarios runs the broker scenarios briefly: redis-stream
// against a redis-server of the test's, whose figures must be there beside
// HTTP's, and the other kinds against loopback ports where nothing
// listens, which must be skipped with a line saying so, not fail the run.
func TestBenchBrokerScenarios(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: runs the broker scenarios, four servers and a redis-server, about 15 s")
	}
	redis := testredis.Start(t)
	bin := buildBinary(t)
	nowhere := closedPort(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "bench", "--scenario", "brokers", "--duration", "1s", "--concurrency", "4", "--rate", "50", "--quiet",
		"--redis-url", redis.URL(), "--nats-url", "nats://"+nowhere, "--amqp-url", "amqp://"+nowhere+"/", "--mqtt-url", "mqtt://"+nowhere,
		"--json", filepath.Join(dir, "r.json"))
	cmd.Env = append(os.Environ(), "HOOKGATE_DATABASE_URL=", "HOOKGATE_ADMIN_KEY=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("hookgate bench: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "r.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Parameters struct {
			Brokers map[string]string `json:"brokers"`
		} `json:"parameters"`
		Results []struct {
			Scenario       string  `json:"scenario"`
			Skipped        string  `json:"skipped"`
			DeliveriesPerS float64 `json:"deliveries_per_s"`
			Lost           *int    `json:"lost"`
			Broker         *struct {
				Kind                string             `json:"kind"`
				DeliveriesPerS      float64            `json:"deliveries_per_s"`
				HTTPDeliveriesPerS  float64            `json:"http_deliveries_per_s"`
				RatioToHTTP         float64            `json:"ratio_to_http"`
				OfferedPerS         float64            `json:"offered_per_s"`
				SendToArrivalMs     map[string]float64 `json:"send_to_arrival_ms"`
				HTTPSendToArrivalMs map[string]float64 `json:"http_send_to_arrival_ms"`
			} `json:"broker"`
		} `json:"results"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("JSON: %v\n%s", err, raw)
	}
	if doc.Parameters.Brokers["redis-stream"] != redis.URL() || len(doc.Parameters.Brokers) != 4 {
		t.Fatalf("parameters' brokers %v", doc.Parameters.Brokers)
	}
	if len(doc.Results) != 4 {
		t.Fatalf("%d results, want 4:\n%s", len(doc.Results), raw)
	}
	r := doc.Results[0]
	if r.Scenario != "broker-redis-stream" || r.Skipped != "" || r.Broker == nil || r.Lost == nil || *r.Lost != 0 {
		t.Fatalf("broker-redis-stream: %+v\n%s", r, out)
	}
	b := r.Broker
	if b.Kind != "redis-stream" || b.DeliveriesPerS <= 0 || b.DeliveriesPerS != r.DeliveriesPerS || b.HTTPDeliveriesPerS <= 0 || b.RatioToHTTP <= 0 || b.OfferedPerS != 50 {
		t.Fatalf("broker-redis-stream's figures: %+v", *b)
	}
	for _, p := range []string{"p50", "p99"} {
		if b.SendToArrivalMs[p] <= 0 || b.HTTPSendToArrivalMs[p] <= 0 {
			t.Fatalf("%s: broker %v, HTTP %v", p, b.SendToArrivalMs, b.HTTPSendToArrivalMs)
		}
	}
	for i, kind := range []string{"nats", "amqp", "mqtt"} {
		r := doc.Results[i+1]
		if r.Scenario != "broker-"+kind || !strings.HasPrefix(r.Skipped, "no "+kind+" broker answers at ") || r.Broker != nil || r.Lost != nil {
			t.Fatalf("broker-%s: %+v; want it skipped, without figures", kind, r)
		}
		if !strings.Contains(string(out), "broker-"+kind+": skipped: no "+kind+" broker answers at") {
			t.Fatalf("the table does not say broker-%s was skipped:\n%s", kind, out)
		}
	}
	if !strings.Contains(string(out), "broker-redis-stream: ") || !strings.Contains(string(out), "× HTTP's") {
		t.Fatalf("the table lacks the redis-stream comparison:\n%s", out)
	}
}

// closedPort returns a loopback address where nothing listens: a port
// that was free a moment ago.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestBenchCommandRefusesBadFlags(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	for _, c := range []struct{ args, want string }{
		{"--scenario fast", `unknown scenario "fast"`},
		{"--duration 10ms", "--duration"},
		{"--concurrency 0", "--concurrency"},
		{"--fanout 0", "--fanout"},
		{"--cpu-rates 0", "--cpu-rates"},
		{"--preload -1", "--preload"},
		{"--nodes 2", "--nodes"},
		{"--nodes 0 --database-url postgres://127.0.0.1:9/x", "--nodes"},
		{"--scenario broker-nats --nats-url nats://192.0.2.1:4222", "loopback"},
		{"--scenario broker-amqp --amqp-url http://127.0.0.1:5672/", "--amqp-url"},
	} {
		out, err := exec.Command(bin, append([]string{"bench", "--quiet"}, strings.Fields(c.args)...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Fatalf("bench %s: %v\n%s", c.args, err, out)
		}
	}
}

// TestBenchRelayCommand checks the plain relay that bench runs beside
// serve: it answers 202 with an event ID and the receiver gets the body byte
// for byte, with the webhook-id bench counts by; it forwards to loopback
// only, and exits 0 on SIGTERM.
func TestBenchRelayCommand(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	type arrival struct {
		path, id, contentType string
		body                  []byte
	}
	arrived := make(chan arrival, 1)
	recv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		arrived <- arrival{r.URL.Path, r.Header.Get("webhook-id"), r.Header.Get("Content-Type"), b}
		rw.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	base, _, cmd := startCmd(t, exec.Command(bin, "bench-relay", "--addr", "127.0.0.1:0", "--target", recv.URL+"/hook"))

	body := []byte("{\"type\":\"order.created\",\"data\":{\"note\":\"d\u00e9j\u00e0 \\u00e9\\n\"}}\n")
	res, err := http.Post(base+"/api/v1/projects/bench/events", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var answer struct{ ID string }
	err = json.NewDecoder(res.Body).Decode(&answer)
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted || err != nil || !strings.HasPrefix(answer.ID, "evt_") {
		t.Fatalf("answer: %d, id %q, %v", res.StatusCode, answer.ID, err)
	}
	a := testwait.Recv(t, "the event at the receiver", arrived)
	if !bytes.Equal(a.body, body) || a.path != "/hook" || a.contentType != "application/json" {
		t.Fatalf("the receiver got %q at %s (%s); want %q at /hook", a.body, a.path, a.contentType, body)
	}
	if want := "msg_" + strings.TrimPrefix(answer.ID, "evt_"); a.id != want {
		t.Fatalf("webhook-id %q; want %q", a.id, want)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the relay did not exit 0 on SIGTERM: %v", err)
	}

	out, err := exec.Command(bin, "bench-relay", "--target", "http://192.0.2.1/hook").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "loopback") {
		t.Fatalf("a target off loopback should be refused: %v\n%s", err, out)
	}
}
