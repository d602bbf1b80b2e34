package main_test

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// TestBenchCommand runs every scenario of hookgate bench briefly on each
// engine, on stores preloaded with finished deliveries, and checks its JSON,
// its plot and its table.
func TestBenchCommand(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"bench", "--scenario", "all", "--duration", "1s", "--concurrency", "8", "--rate", "200",
				"--backlog", "2000", "--fanout", "5", "--cpu-rates", "50,100", "--preload", "2000", "--json", filepath.Join(dir, "r.json"), "--plot", filepath.Join(dir, "r.svg"), "--quiet"}
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
				p["duration_s"] != float64(1) || p["version"] == "" || len(p["scenarios"].([]any)) != 7 || p["preload"] != float64(2000) {
				t.Fatalf("parameters = %v", p)
			}
			want := []string{"throughput", "fanout", "latency", "batch-ingest", "backlog", "slow-receiver", "cpu", "cpu"}
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
			if results[6]["offered_per_s"] != float64(50) || results[7]["offered_per_s"] != float64(100) || results[6]["idle_cpu_pct"] == nil || results[7]["idle_cpu_pct"] != nil {
				t.Fatalf("cpu figures: offered %v, %v; idle %v, %v", results[6]["offered_per_s"], results[7]["offered_per_s"], results[6]["idle_cpu_pct"], results[7]["idle_cpu_pct"])
			}
			if !strings.Contains(string(out), "cpu@100/s") || !strings.Contains(string(out), "the idle server used") {
				t.Fatalf("the table lacks the cpu rows:\n%s", out)
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
	} {
		out, err := exec.Command(bin, append([]string{"bench", "--quiet"}, strings.Fields(c.args)...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Fatalf("bench %s: %v\n%s", c.args, err, out)
		}
	}
}
