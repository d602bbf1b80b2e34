package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// These benchmarks run the real binary. They are not part of make test:
//
//	go test ./cmd/hookgate -run '^$' -bench AcceptToReceipt -benchtime 10000x
//	go test ./cmd/hookgate -run '^$' -bench BacklogRSS -benchtime 1000000x -timeout 30m

const benchKey = "bench-admin-key-0123456789abcdef0123"

// benchServer starts hookgate serve on engine and makes a project "bench"
// with one webhook to url. It returns the server's URL, a poster with a
// publisher key of the project (as producers send) and the process.
func benchServer(b *testing.B, engine, url string) (string, *poster, *exec.Cmd) {
	b.Helper()
	env := []string{"HOOKGATE_ALLOW_NETWORKS=127.0.0.0/8", "HOOKGATE_ADMIN_KEY=" + benchKey, "HOOKGATE_ENCRYPTION_KEY=" + strings.Repeat("ab", 32)}
	if engine == sqlstore.EnginePostgres {
		env = append(env, "HOOKGATE_DATABASE_URL="+sqltest.Schema(b))
	}
	var args []string
	if a := os.Getenv("HOOKGATE_BENCH_PPROF"); a != "" {
		args = append(args, "--pprof-addr", a) // to profile the server during a benchmark
	}
	base, cmd := startWith(b, buildBinary(b), b.TempDir(), env, args...)
	if st, _ := postJSON(base, benchKey, "/projects", map[string]any{"name": "bench"}); st != 201 {
		b.Fatalf("project: %d", st)
	}
	if st, _ := postJSON(base, benchKey, "/projects/bench/webhooks", map[string]any{"url": url}); st != 201 {
		b.Fatalf("webhook: %d", st)
	}
	st, key := postJSON(base, benchKey, "/projects/bench/keys", map[string]any{"name": "producer", "role": "publisher"})
	if st != 201 {
		b.Fatalf("key: %d", st)
	}
	return base, newPoster(key["key"].(string)), cmd
}

// poster posts JSON with an API key and a pool of keep-alive connections.
type poster struct {
	client *http.Client
	key    string
}

func newPoster(key string) *poster {
	return &poster{key: key, client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 128}}}
}

func (p *poster) post(url string, body []byte) (int, map[string]any) {
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", p.key)
	res, err := p.client.Do(req)
	if err != nil {
		return 0, nil
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// BenchmarkAcceptToReceipt offers b.N events at 1,000 a second to a real
// server with one local receiver, and reports percentiles of the time from
// each event's 202 reaching the producer to its arrival at the receiver (0
// when it arrived first), and the 99th percentile of the 202 itself.
func BenchmarkAcceptToReceipt(b *testing.B) {
	for _, engine := range sqltest.Engines(b) {
		b.Run(engine, func(b *testing.B) { benchLatency(b, engine, 1000) })
	}
}

func benchLatency(b *testing.B, engine string, rate int) {
	var mu sync.Mutex
	arrived := make(map[string]time.Time, b.N) // by event ID without prefix
	recv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		now := time.Now()
		id := strings.TrimPrefix(r.Header.Get("webhook-id"), "msg_")
		mu.Lock()
		arrived[id[:min(26, len(id))]] = now
		mu.Unlock()
	}))
	defer recv.Close()
	base, p, _ := benchServer(b, engine, recv.URL)
	sent := make([]time.Time, b.N)
	accept := make([]time.Duration, b.N)
	ids := make([]string, b.N)
	var failed atomic.Int64
	jobs := make(chan int, 256)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
				t0 := time.Now()
				st, out := p.post(base+"/api/v1/projects/bench/events", []byte(`{"type":"order.created","data":{"n":`+strconv.Itoa(i)+`}}`))
				if st != 202 {
					failed.Add(1)
					continue
				}
				t1 := time.Now()
				sent[i], accept[i], ids[i] = t1, t1.Sub(t0), strings.TrimPrefix(out["id"].(string), "evt_")
			}
		}()
	}
	for i := range b.N {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	offered := float64(b.N) / time.Since(start).Seconds()
	var lat []time.Duration
	testwait.Within(b, "every accepted event at the receiver", time.Minute, func() bool {
		lat = lat[:0]
		mu.Lock()
		for i, id := range ids {
			if at, ok := arrived[id]; ok && id != "" {
				lat = append(lat, max(0, at.Sub(sent[i])))
			}
		}
		mu.Unlock()
		return len(lat)+int(failed.Load()) >= b.N
	})
	b.StopTimer()
	if lost := b.N - int(failed.Load()) - len(lat); lost > 0 {
		b.Errorf("%d accepted events never arrived", lost)
	}
	if len(lat) == 0 {
		b.Fatal("nothing arrived")
	}
	slices.Sort(lat)
	slices.Sort(accept)
	pctOf := func(d []time.Duration, q float64) float64 {
		return float64(d[int(q*float64(len(d)-1))]) / float64(time.Millisecond)
	}
	pct := func(q float64) float64 { return pctOf(lat, q) }
	b.ReportMetric(pctOf(accept, 0.99), "accept-p99-ms")
	b.ReportMetric(offered, "events/s")
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.9), "p90-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
	b.ReportMetric(float64(failed.Load()), "refused")
}

// BenchmarkBacklogRSS queues b.N events for a receiver that is down (a
// closed loopback port) and reports the server's peak resident memory
// while they are accepted and then fail and wait for their retries.
func BenchmarkBacklogRSS(b *testing.B) {
	for _, engine := range sqltest.Engines(b) {
		b.Run(engine, func(b *testing.B) { benchBacklog(b, engine) })
	}
}

func benchBacklog(b *testing.B, engine string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	down := "http://" + ln.Addr().String() + "/hook"
	ln.Close() // nothing listens there now: every request is refused
	base, p, cmd := benchServer(b, engine, down)
	batch := func(n int) []byte {
		var buf bytes.Buffer
		buf.WriteString(`{"events":[`)
		for i := range n {
			if i > 0 {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `{"type":"order.created","data":{"n":%d}}`, i)
		}
		buf.WriteString(`]}`)
		return buf.Bytes()
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				from := next.Add(1000) - 1000
				if from >= int64(b.N) {
					return
				}
				n := int(min(1000, int64(b.N)-from))
				if st, _ := p.post(base+"/api/v1/projects/bench/events/batch", batch(n)); st != 202 {
					b.Errorf("batch: %d", st)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	time.Sleep(20 * time.Second) // the first attempts fail, the retries come due
	b.StopTimer()
	b.ReportMetric(rssPeakMB(b, cmd.Process.Pid), "rss-peak-MB")
}

// rssPeakMB reads a process's peak resident set size (VmHWM) in MiB.
func rssPeakMB(b *testing.B, pid int) float64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	b.Fatal("no VmHWM in /proc status")
	return 0
}
