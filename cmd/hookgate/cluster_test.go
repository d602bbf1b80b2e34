package main_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// cluster is a set of named `hookgate serve` processes on one PostgreSQL
// schema; producers post to the live ones in turn.
type cluster struct {
	t    *testing.T
	bin  string
	env  []string
	mu   sync.Mutex
	urls map[string]string // the live nodes' base URLs, by name
	cmds map[string]*exec.Cmd
	dirs map[string]string
}

// clusterArgs are the nodes' flags: the smallest node timeout, so that a
// killed node is taken over, and its name taken again, within 3 s.
var clusterArgs = []string{"--send-timeout", "2s", "--node-timeout", "3s", "--metrics-addr", ""}

func (c *cluster) start(name string) {
	c.t.Helper()
	c.mu.Lock()
	dir, ok := c.dirs[name]
	if !ok {
		dir = c.t.TempDir()
		c.dirs[name] = dir
	}
	c.mu.Unlock()
	url, cmd := startWith(c.t, c.bin, dir, c.env, append(slices.Clone(clusterArgs), "--node-name", name)...)
	c.mu.Lock()
	c.urls[name], c.cmds[name] = url, cmd
	c.mu.Unlock()
}

// out takes a node out of the producers' turn and returns its process.
func (c *cluster) out(name string) *exec.Cmd {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.urls, name)
	return c.cmds[name]
}

// pick returns the i-th live node's URL, in the order of their names.
func (c *cluster) pick(i int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	names := make([]string, 0, len(c.urls))
	for n := range c.urls {
		names = append(names, n)
	}
	slices.Sort(names)
	return c.urls[names[i%len(names)]]
}

// Issue 30, item 3: three named nodes on one PostgreSQL under steady load
// share the work; one is killed with SIGKILL and another restarted under
// its name while the load goes on. Every accepted event is delivered, the
// duplicates stay within the kill's bound, the restarted node takes work
// again, and a FIFO webhook fed by the same events never has two requests
// of a key in flight and gets each key's events in order (the head in
// flight at the kill may come twice). It takes 20-40 s, so -short skips it.
func TestThreeNamedNodesThroughAKillAndARestart(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: three servers, a kill and a restart (20-40 s)")
	}
	if len(sqltest.Engines(t)) < 2 {
		t.Skip("needs PostgreSQL")
	}
	const admin = "three-node-admin-key-0123456789abcdef"
	c := &cluster{t: t, bin: buildBinary(t), urls: map[string]string{}, cmds: map[string]*exec.Cmd{}, dirs: map[string]string{},
		env: []string{"HOOKGATE_ALLOW_NETWORKS=127.0.0.0/8", "HOOKGATE_ADMIN_KEY=" + admin,
			"HOOKGATE_ENCRYPTION_KEY=" + strings.Repeat("ef", 32), "HOOKGATE_DATABASE_URL=" + sqltest.Schema(t)}}
	for _, n := range []string{"n1", "n2", "n3"} {
		c.start(n)
	}
	plain := newReceiver(t, time.Millisecond)
	fifo := newFIFOReceiver(t, time.Millisecond)
	post := func(base, path string, body any) (int, map[string]any) { return postJSON(base, admin, path, body) }
	if st, _ := post(c.pick(0), "/projects", map[string]any{"name": "cluster"}); st != 201 {
		t.Fatalf("project: %d", st)
	}
	st, hook := post(c.pick(1), "/projects/cluster/webhooks", map[string]any{"url": plain.URL + "/hook"})
	if st != 201 {
		t.Fatalf("webhook: %d", st)
	}
	if st, _ := post(c.pick(2), "/projects/cluster/webhooks", map[string]any{"url": fifo.URL + "/hook", "ordering": "fifo", "orderingKey": "/data/k"}); st != 201 {
		t.Fatalf("fifo webhook: %d", st)
	}

	// Producers post each of their keys' events one after the other, to the
	// live nodes in turn. A post that got no 202 (its node killed or
	// stopping) may or may not have been committed: its sequence number is
	// skipped, and the next goes to another node.
	var mu sync.Mutex
	var accepted []string
	acceptedSeqs := map[string][]int{}
	var count atomic.Int64
	halt := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-halt:
					return
				default:
				}
				k, seq := fmt.Sprintf("p%d-k%d", g, i%3), i/3
				st, out := post(c.pick(g+i), "/projects/cluster/events", map[string]any{"type": "t", "data": map[string]any{"k": k, "seq": seq}})
				if st != 202 {
					continue
				}
				mu.Lock()
				accepted = append(accepted, out["id"].(string))
				acceptedSeqs[k] = append(acceptedSeqs[k], seq)
				mu.Unlock()
				count.Add(1)
			}
		}()
	}
	stopped := false
	stopLoad := func() {
		if !stopped {
			stopped = true
			close(halt)
			wg.Wait()
		}
	}
	t.Cleanup(stopLoad)
	began := time.Now()
	testwait.For(t, "600 events accepted by three nodes", func() bool { return count.Load() >= 600 })
	killedAt := time.Now()
	mu.Lock()
	beforeKill := slices.Clone(accepted)
	mu.Unlock()
	t.Logf("%d accepted in %s", len(beforeKill), killedAt.Sub(began).Round(10*time.Millisecond))
	// n2 dies while the load goes on.
	if err := c.out("n2").Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// Load goes on past the node timeout: the others take n2's rows over
	// under load.
	atKill := count.Load()
	testwait.For(t, "900 more events accepted after the kill", func() bool { return count.Load() >= atKill+900 })
	// n3 restarts under its name: SIGTERM, and at once a new process.
	stop3 := time.Now()
	stop(c.out("n3"))
	stopped3 := time.Now()
	c.start("n3")
	restartedAt := time.Now()
	t.Logf("n3 drained and stopped in %s, listening again under its name %s later", stopped3.Sub(stop3).Round(10*time.Millisecond),
		restartedAt.Sub(stopped3).Round(10*time.Millisecond))
	atRestart := count.Load()
	testwait.For(t, "600 more events accepted after the restart", func() bool { return count.Load() >= atRestart+600 })
	stopLoad()
	t.Logf("load stopped %s after the kill", time.Since(killedAt).Round(10*time.Millisecond))

	mu.Lock()
	want := slices.Clone(accepted)
	mu.Unlock()
	plain.waitAllDelivered(t, want, "posted to three nodes, n2 killed, n3 restarted", maxKillDuplicates, 50*time.Second)
	t.Logf("the latest request of an event accepted before the kill came %s after it; everything was delivered %s after it",
		plain.lastAt(beforeKill).Sub(killedAt).Round(10*time.Millisecond), time.Since(killedAt).Round(10*time.Millisecond))
	checkFIFO(t, fifo, acceptedSeqs, 30*time.Second)

	// Who sent what, as the attempts' node says.
	cl, err := client.New(c.pick(0), admin)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var ids []string
	for d, err := range client.All(ctx, func(ctx context.Context, cursor string) (*client.Page[client.Delivery], error) {
		return cl.ListDeliveries(ctx, "cluster", &client.DeliveryListOptions{Webhook: hook["id"].(string), ListOptions: client.ListOptions{Limit: 250, Cursor: cursor}})
	}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	before, after := map[string]int{}, map[string]int{}
	var amu sync.Mutex
	var rg sync.WaitGroup
	next := make(chan string)
	for range 4 {
		rg.Add(1)
		go func() {
			defer rg.Done()
			for id := range next {
				page, err := cl.ListAttempts(ctx, "cluster", id, nil)
				if err != nil {
					t.Error(err)
					continue
				}
				amu.Lock()
				for _, a := range page.Data {
					switch {
					case a.StartedAt.Before(killedAt):
						before[a.Node]++
					case a.StartedAt.After(restartedAt):
						after[a.Node]++
					}
				}
				amu.Unlock()
			}
		}()
	}
	for _, id := range ids {
		next <- id
	}
	close(next)
	rg.Wait()
	total := 0
	for _, n := range before {
		total += n
	}
	t.Logf("attempts before the kill by node: %v (of %d); after n3's restart: %v", before, total, after)
	for _, n := range []string{"n1", "n2", "n3"} {
		if share := float64(before[n]) / float64(total); share < 0.05 {
			t.Errorf("%s made %.1f%% of the attempts before the kill; want at least 5%%", n, 100*share)
		}
	}
	if after["n3"] == 0 {
		t.Errorf("n3, restarted under its name, made no attempt: %v", after)
	}
	if after["n2"] != 0 {
		t.Errorf("n2 made attempts after its kill: %v", after)
	}
}

// checkFIFO waits until each key's accepted events reached r, then fails on
// an overlap, an event out of order, or more than one duplicate per key (the
// head in flight at the kill, sent again, comes right after its first copy).
func checkFIFO(t *testing.T, r *fifoReceiver, accepted map[string][]int, within time.Duration) {
	t.Helper()
	testwait.Within(t, "every accepted event at the FIFO receiver", within, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for k, seqs := range accepted {
			for _, s := range seqs {
				if !slices.Contains(r.got[k], s) {
					return false
				}
			}
		}
		return true
	})
	total, dups := r.verify(t, 1)
	t.Logf("FIFO: %d keys, %d requests, %d duplicates", len(accepted), total, dups)
}

// Issue 30, item 3: a second live process under a name already held is
// refused, naming --node-name; a bad name is refused at start; the restart
// of a node killed with SIGKILL takes its name back once its heartbeat
// ages (at most --node-timeout); a node whose heartbeat finds its name
// taken by another process drains and exits 1.
func TestNodeNameHeldByOneLiveProcess(t *testing.T) {
	t.Parallel()
	if len(sqltest.Engines(t)) < 2 {
		t.Skip("needs PostgreSQL")
	}
	bin := buildBinary(t)
	dbURL := sqltest.Schema(t)
	env := []string{"HOOKGATE_ADMIN_KEY=node-name-admin-key-0123456789abcdef", "HOOKGATE_ENCRYPTION_KEY=" + strings.Repeat("12", 32), "HOOKGATE_DATABASE_URL=" + dbURL}
	args := append(slices.Clone(clusterArgs), "--node-name", "web-1")
	dir := t.TempDir()
	_, first := startWith(t, bin, dir, env, args...)
	out := refused(t, bin, env, append([]string{"--data-dir", t.TempDir()}, args...)...)
	if !strings.Contains(out, "--node-name web-1 is held by another live process") {
		t.Fatalf("a second process under a live node's name:\n%s", out)
	}
	if out := refused(t, bin, append(env, "HOOKGATE_NODE_NAME=web 1"), "--data-dir", t.TempDir()); !strings.Contains(out, "--node-name") || !strings.Contains(out, "letters, digits") {
		t.Fatalf("a bad name:\n%s", out)
	}
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	// The restart waits for the killed process's heartbeat to age, not
	// for a lease.
	began := time.Now()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	testwait.For(t, "the restart to listen", func() bool { return strings.Contains(stderr.String(), "hookgate listening") })
	t.Logf("restarted under its name %s after the kill", time.Since(began).Round(10*time.Millisecond))

	// Another process takes the name while this one is cut off (made here
	// by writing its row): this one's next heartbeat sees it, and it
	// drains and exits 1.
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE nodes SET incarnation = 'another-process' WHERE id = 'web-1'`); err != nil {
		t.Fatal(err)
	}
	err = testwait.Recv(t, "the displaced node to exit", exited)
	exited <- err // for the cleanup
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 ||
		!strings.Contains(stderr.String(), "--node-name web-1: another live process holds this node's name now, so this one stopped") {
		t.Fatalf("the displaced node exited with %v:\n%s", err, stderr.String())
	}
}

// On the embedded store the data dir's lock makes a process the only one:
// a restart under a fixed name after SIGKILL takes it at once.
func TestNodeNameOnTheEmbeddedStore(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dir := t.TempDir()
	args := []string{"--node-name", "edge_1", "--metrics-addr", ""}
	_, first := startWith(t, bin, dir, nil, args...)
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	url, _ := startWith(t, bin, dir, nil, args...)
	if res, err := http.Get(url + "/readyz"); err != nil || res.StatusCode != 200 {
		t.Fatalf("readyz after the restart: %v %v", res, err)
	} else {
		res.Body.Close()
	}
}
