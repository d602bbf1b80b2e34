// Package bench measures a real Hookgate server on this machine: it starts
// `hookgate serve` as a subprocess, a receiver and a load generator, all on
// loopback, runs scenarios against them, and compares every figure with a
// plain HTTP client posting to the same receiver in the same run.
package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for the bench schema

	"github.com/hookgate/hookgate/client"
)

// server is a running `hookgate serve` subprocess, or several on one
// PostgreSQL schema (serverOptions.nodes).
type server struct {
	*process            // the first node
	others   []*process // the other nodes, each with a data dir of its own
	admin    string
	dataDirs []string
	dropDB   func()
	dbURL    string // the PostgreSQL URL with the bench schema; empty on SQLite
	rss      rssSet
}

// serverOptions are the flags and environment of one server.
type serverOptions struct {
	executable  string
	databaseURL string // empty for SQLite
	sendTimeout time.Duration
	schedule    string // HOOKGATE_RETRY_SCHEDULE
	pprofAddr   string
	// nodes is how many servers share the PostgreSQL schema, each with a
	// data dir and a port of its own and the same admin and encryption
	// keys; 0 and 1 are one.
	nodes int
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startServer starts hookgate serve on a new data dir (and, on PostgreSQL, a
// new schema, dropped by stop) and waits until it listens; with o.nodes,
// that many, one after the other, on the same schema.
func startServer(ctx context.Context, o serverOptions) (*server, error) {
	s := &server{admin: "hgbench_" + randomHex(16), dropDB: func() {}}
	env := append(os.Environ(), "HOOKGATE_ADMIN_KEY="+s.admin, "HOOKGATE_ENCRYPTION_KEY="+randomHex(32),
		"HOOKGATE_ALLOW_NETWORKS=127.0.0.0/8", "HOOKGATE_DATABASE_URL=", "HOOKGATE_RETRY_SCHEDULE="+o.schedule)
	if o.databaseURL != "" {
		u, drop, err := benchSchema(ctx, o.databaseURL)
		if err != nil {
			return nil, err
		}
		s.dropDB, s.dbURL = drop, u
	}
	for i := range max(1, o.nodes) {
		dir, err := os.MkdirTemp("", "hookgate-bench-")
		if err != nil {
			s.stop()
			return nil, err
		}
		s.dataDirs = append(s.dataDirs, dir)
		args := []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir}
		if o.pprofAddr != "" && i == 0 {
			args = append(args, "--pprof-addr", o.pprofAddr)
		}
		if o.sendTimeout > 0 {
			args = append(args, "--send-timeout", o.sendTimeout.String())
		}
		if s.dbURL != "" {
			args = append(args, "--database-url", s.dbURL)
		}
		p, err := startProcess(ctx, o.executable, args, env)
		if err != nil {
			s.stop()
			return nil, err
		}
		if i == 0 {
			s.process = p
		} else {
			s.others = append(s.others, p)
		}
		s.rss = append(s.rss, startRSS(p.cmd.Process.Pid))
	}
	return s, nil
}

// nodes returns every node's process, the first first.
func (s *server) nodes() []*process {
	if s.process == nil {
		return s.others
	}
	return append([]*process{s.process}, s.others...)
}

// pids returns every node's process ID.
func (s *server) pids() []int {
	var out []int
	for _, p := range s.nodes() {
		out = append(out, p.cmd.Process.Pid)
	}
	return out
}

// bases returns every node's base URL, where the loader spreads its
// requests.
func (s *server) bases() []string {
	var out []string
	for _, p := range s.nodes() {
		out = append(out, p.base)
	}
	return out
}

// stop stops the processes, all at once, and removes what the server made.
func (s *server) stop() {
	s.rss.stop()
	var wg sync.WaitGroup
	for _, p := range s.nodes() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.stop()
		}()
	}
	wg.Wait()
	s.cleanup()
}

// process is a subprocess of this binary that has said where it listens.
type process struct {
	cmd      *exec.Cmd
	base     string // http://127.0.0.1:port
	waitDone chan error
}

// startProcess starts executable with args and env and waits for the JSON
// log line on its stderr that gives its address, {"msg":"hookgate
// listening","addr":…}, which serve and bench-relay both write.
func startProcess(ctx context.Context, executable string, args, env []string) (*process, error) {
	p := &process{cmd: exec.CommandContext(ctx, executable, args...), waitDone: make(chan error, 1)}
	p.cmd.Env = env
	p.cmd.Stdout = io.Discard
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", executable, err)
	}
	addr := make(chan string, 1)
	var logTail tailBuffer
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "hookgate listening" {
				select {
				case addr <- line.Addr:
				default:
				}
			}
			logTail.add(sc.Text())
		}
		p.waitDone <- p.cmd.Wait()
	}()
	name := "hookgate " + args[0]
	select {
	case a := <-addr:
		p.base = "http://" + a
		return p, nil
	case err := <-p.waitDone:
		return nil, fmt.Errorf("%s exited before listening (%v): %s", name, err, logTail.String())
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, fmt.Errorf("%s did not listen within 30s: %s", name, logTail.String())
	}
}

// stop sends SIGTERM and waits for the exit, which for serve is after its
// drain, killing the process after 40 s.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	// The exit status after SIGTERM or a kill says nothing worth reporting.
	select {
	case <-p.waitDone: //nolint:errcheck // see above
	case <-time.After(40 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.waitDone //nolint:errcheck // see above
	}
}

func (s *server) cleanup() {
	s.dropDB()
	for _, dir := range s.dataDirs {
		os.RemoveAll(dir)
	}
}

// benchSchema creates a schema of its own in the database at base and
// returns a URL that selects it, and a function that drops it.
func benchSchema(ctx context.Context, base string) (string, func(), error) {
	db, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	schema := "hookgate_bench_" + randomHex(6)
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("--database-url: create schema: %w", err)
	}
	drop := func() {
		_, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE")
		db.Close()
	}
	u, err := url.Parse(base)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

// setupWebhooks makes a project with the webhooks ins, through the Go SDK
// with the admin key, and returns a publisher key and the webhooks' IDs
// (without "wh_"), in the order of ins. An error of the API is a
// *client.Error.
func (s *server) setupWebhooks(ins []client.WebhookCreate) (string, []string, error) {
	ctx := context.Background()
	c, err := client.New(s.base, s.admin, client.WithUserAgent("hookgate-bench"))
	if err != nil {
		return "", nil, err
	}
	// The circuit breaker is off: backlog's receiver is down and
	// slow-receiver's slow endpoint times out on purpose, and the scenarios
	// measure how the engine sends to them, not how long a breaker holds
	// them.
	off := 0
	if _, err := c.CreateProject(ctx, client.ProjectCreate{Name: "bench", Slug: "bench", Breaker: &client.Breaker{Failures: &off}}); err != nil {
		return "", nil, err
	}
	ids := make([]string, len(ins))
	for i, in := range ins {
		w, err := c.CreateWebhook(ctx, "bench", in)
		if err != nil {
			return "", nil, err
		}
		ids[i] = strings.TrimPrefix(w.ID, "wh_")
	}
	k, err := c.CreateKey(ctx, "bench", client.KeyCreate{Name: "bench", Role: client.RolePublisher})
	if err != nil {
		return "", nil, err
	}
	if k.Key == "" {
		return "", nil, errors.New("no key in the answer")
	}
	return k.Key, ids, nil
}

// filterCounts returns the filter counters of the bench project (its
// webhooks', summed over the last hour) once they reach want, or when they
// have not moved for 3 s: the server writes them about every second.
func (s *server) filterCounts(ctx context.Context, want int) (client.FilterStats, error) {
	c, err := client.New(s.base, s.admin, client.WithUserAgent("hookgate-bench"))
	if err != nil {
		return client.FilterStats{}, err
	}
	var last client.FilterStats
	lastMove := time.Now()
	for {
		st, err := c.GetProjectStats(ctx, "bench", &client.StatsOptions{Window: time.Hour})
		if err != nil {
			return client.FilterStats{}, err
		}
		if st.Filter.Rejected+st.Filter.Failed >= want {
			return st.Filter, nil
		}
		if st.Filter != last {
			last, lastMove = st.Filter, time.Now()
		} else if time.Since(lastMove) > 3*time.Second {
			return st.Filter, nil
		}
		select {
		case <-ctx.Done():
			return client.FilterStats{}, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// rssSampler reads a process's resident set every 100 ms and keeps the
// peak, and the peak the kernel kept (VmHWM).
type rssSampler struct {
	pid  int
	mu   sync.Mutex
	peak float64 // MiB
	done chan struct{}
	wg   sync.WaitGroup
}

func startRSS(pid int) *rssSampler {
	r := &rssSampler{pid: pid, done: make(chan struct{})}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			r.sample()
			select {
			case <-r.done:
				return
			case <-t.C:
			}
		}
	}()
	return r
}

func (r *rssSampler) sample() {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(r.pid) + "/status")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "VmHWM:" || f[0] == "VmRSS:") {
			kb, _ := strconv.ParseFloat(f[1], 64)
			r.mu.Lock()
			r.peak = max(r.peak, kb/1024)
			r.mu.Unlock()
		}
	}
}

// Peak returns the highest resident set seen, in MiB; 0 when /proc could
// not be read (not Linux).
func (r *rssSampler) Peak() float64 {
	r.sample()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peak
}

// rssSet samples several processes.
type rssSet []*rssSampler

// Peak returns the highest resident set of any of the processes, in MiB.
func (rs rssSet) Peak() float64 {
	peak := 0.0
	for _, r := range rs {
		peak = max(peak, r.Peak())
	}
	return peak
}

func (rs rssSet) stop() {
	for _, r := range rs {
		r.stop()
	}
}

func (r *rssSampler) stop() {
	select {
	case <-r.done:
	default:
		close(r.done)
	}
	r.wg.Wait()
}

// clockTicks is the unit of /proc/{pid}/stat's CPU times (USER_HZ), 100 on
// every Linux architecture Go runs on.
const clockTicks = 100

// cpuReading is the CPU time process pid has used, read at one moment:
// its threads' run times to the nanosecond, from
// /proc/{pid}/task/*/schedstat (nil where the kernel keeps no scheduler
// statistics), and its user and system time in clock ticks, from
// /proc/{pid}/stat (0 when /proc cannot be read: not Linux).
type cpuReading struct {
	threads map[string]time.Duration // by thread ID
	ticks   time.Duration
}

func readCPU(pid int) cpuReading {
	dir := "/proc/" + strconv.Itoa(pid)
	var r cpuReading
	if b, err := os.ReadFile(dir + "/stat"); err == nil {
		r.ticks = parseCPUTime(string(b))
	}
	tasks, err := os.ReadDir(dir + "/task")
	if err != nil {
		return r
	}
	r.threads = make(map[string]time.Duration, len(tasks))
	for _, task := range tasks {
		b, err := os.ReadFile(dir + "/task/" + task.Name() + "/schedstat")
		if err != nil {
			if os.IsNotExist(err) {
				continue // the thread has ended
			}
			r.threads = nil
			return r
		}
		d, ok := parseSchedstat(string(b))
		if !ok {
			r.threads = nil
			return r
		}
		r.threads[task.Name()] = d
	}
	return r
}

// since is the CPU time used from r0 to r: the threads' run times when
// both readings have them (a thread that ended between the two loses its
// share, one that began counts whole), else the clock ticks. A light
// process's second of work often reads as 0 ticks: the kernel charges a
// tick, 10 ms, to whichever thread runs when it falls.
func (r cpuReading) since(r0 cpuReading) time.Duration {
	if r.threads == nil || r0.threads == nil {
		return r.ticks - r0.ticks
	}
	var used time.Duration
	for id, d := range r.threads {
		used += max(0, d-r0.threads[id])
	}
	return used
}

// parseSchedstat reads a thread's run time, the first field of its
// schedstat line, in nanoseconds.
func parseSchedstat(line string) (time.Duration, bool) {
	f := strings.Fields(line)
	if len(f) < 1 {
		return 0, false
	}
	ns, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || ns < 0 {
		return 0, false
	}
	return time.Duration(ns), true
}

// parseCPUTime reads utime and stime, the 14th and 15th fields of a
// /proc/{pid}/stat line; the command name, the 2nd, may hold spaces, so
// fields are counted after its closing parenthesis.
func parseCPUTime(stat string) time.Duration {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(u+s) * time.Second / clockTicks
}

// tailBuffer keeps the last lines of a log, for error messages.
type tailBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (t *tailBuffer) add(l string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, l)
	if len(t.lines) > 10 {
		t.lines = t.lines[1:]
	}
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

// attemptsByNode counts the attempts in the bench schema by the node that
// made them.
func (s *server) attemptsByNode(ctx context.Context) (map[string]int, error) {
	db, err := sql.Open("pgx", s.dbURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT node, count(*) FROM attempts WHERE node <> '' GROUP BY node`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var node string
		var n int
		if err := rows.Scan(&node, &n); err != nil {
			return nil, err
		}
		out[node] = n
	}
	return out, rows.Err()
}
