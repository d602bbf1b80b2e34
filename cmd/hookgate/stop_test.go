package main_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/testwait"
)

// serveLog is a served process's log, line by line, that a test waits on.
type serveLog struct {
	mu    sync.Mutex
	cond  *sync.Cond
	lines []map[string]any
	ended bool
}

// startLogged starts cmd, keeping its JSON log lines, and waits for its
// "hookgate listening" line; it returns the base URL and the log.
func startLogged(t *testing.T, cmd *exec.Cmd) (string, *serveLog) {
	t.Helper()
	// A pipe of our own rather than StderrPipe: Wait closes StderrPipe's
	// read end as soon as the process exits, which could drop the last
	// lines (the "stopped" line) before the reader has them. This read end
	// is the reader's alone, and ends when the process has exited and
	// every line is read.
	stderr, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = w
	err = cmd.Start()
	w.Close()
	if err != nil {
		stderr.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	l := &serveLog{}
	l.cond = sync.NewCond(&l.mu)
	go func() { defer stderr.Close(); l.read(stderr) }()
	line := l.wait(t, "hookgate listening", 30*time.Second)
	return "http://" + line["addr"].(string), l
}

func (l *serveLog) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		l.mu.Lock()
		l.lines = append(l.lines, line)
		l.cond.Broadcast()
		l.mu.Unlock()
	}
	l.mu.Lock()
	l.ended = true
	l.cond.Broadcast()
	l.mu.Unlock()
}

// find returns the first line whose msg starts with prefix, or nil.
func (l *serveLog) find(prefix string) map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.findLocked(prefix)
}

func (l *serveLog) findLocked(prefix string) map[string]any {
	for _, line := range l.lines {
		if msg, _ := line["msg"].(string); strings.HasPrefix(msg, prefix) {
			return line
		}
	}
	return nil
}

// wait returns the first line whose msg starts with prefix, waiting for
// it; it fails when the log ends without one, or after within (a bound
// for a hung process, not a timing the test depends on).
func (l *serveLog) wait(t *testing.T, prefix string, within time.Duration) map[string]any {
	t.Helper()
	timer := time.AfterFunc(within, func() {
		l.mu.Lock()
		l.ended = true
		l.cond.Broadcast()
		l.mu.Unlock()
	})
	defer timer.Stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		if line := l.findLocked(prefix); line != nil {
			return line
		}
		if l.ended {
			t.Fatalf("no log line %q; the log has:\n%v", prefix, l.lines)
		}
		l.cond.Wait()
	}
}

// Issue 22, item 13: the first SIGTERM drains and says what is in flight;
// a second one cuts the drain short, so that the process exits while a
// slow receiver still holds a delivery (it used to wait for the drain, or
// the send timeout); the delivery is given back to the queue and sent
// after a restart, which says what backlog it took up.
func TestSecondSignalCutsTheDrainShort(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dataDir := t.TempDir()
	held, release := make(chan string, 1), make(chan struct{})
	var mu sync.Mutex
	var delivered []string
	var first sync.Once
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		holding := false
		first.Do(func() { holding = true })
		if holding { // the first request: held until the test is done
			held <- r.Header.Get("webhook-id")
			<-release
			return
		}
		mu.Lock()
		delivered = append(delivered, r.Header.Get("webhook-id"))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	// Cleanups run last first: the held request is released before the
	// receiver closes, once the test has seen the process exit.
	t.Cleanup(recv.Close)
	t.Cleanup(func() { close(release) })

	serveCmd := func() *exec.Cmd {
		// Timeouts of ten minutes: only the second signal can end the
		// drain while the test runs.
		cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir,
			"--send-timeout", "10m", "--lease", "11m", "--drain-timeout", "10m")
		cmd.Env = append(os.Environ(), "HOOKGATE_ALLOW_NETWORKS=127.0.0.0/8", "HOOKGATE_ADMIN_KEY=", "HOOKGATE_DATABASE_URL=",
			"HOOKGATE_ENCRYPTION_KEY=", "HOOKGATE_METRICS_ADDR=")
		return cmd
	}
	cmd := serveCmd()
	url, logs := startLogged(t, cmd)
	key := strings.TrimSpace(readFile(t, filepath.Join(dataDir, "admin.key")))
	if st, _ := postJSON(url, key, "/projects", map[string]any{"name": "stop"}); st != 201 {
		t.Fatalf("project: %d", st)
	}
	if st, _ := postJSON(url, key, "/projects/stop/webhooks", map[string]any{"url": recv.URL}); st != 201 {
		t.Fatalf("webhook: %d", st)
	}
	st, ev := postJSON(url, key, "/projects/stop/events", map[string]any{"type": "order.created", "data": map[string]any{"id": 1}})
	if st != 202 {
		t.Fatalf("event: %d", st)
	}
	id := <-held

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	d := logs.wait(t, "draining", 30*time.Second)
	if d["signal"] != "terminated" || d["deliveriesInFlight"] != float64(1) || d["requestsInFlight"] != float64(0) || d["timeout"] != "10m0s" {
		t.Fatalf("drain line: %v", d)
	}
	// The receiver still holds its delivery: only the cut drain ends it.
	terminate(t, cmd, time.Minute, "the second SIGTERM")
	if c := logs.wait(t, "second signal", time.Second); c["level"] != "WARN" || c["deliveriesInFlight"] != float64(1) {
		t.Fatalf("second signal line: %v", c)
	}
	s := logs.wait(t, "stopped", time.Second)
	if s["cutShort"] != true || s["deliveriesAbandoned"] != float64(1) || s["deliveriesFinished"] != float64(0) || s["leasesReleased"] != float64(1) {
		t.Fatalf("stopped line: %v", s)
	}

	// Nothing accepted is lost: the next start takes the delivery up.
	url, logs = startLogged(t, serveCmd())
	if b := logs.wait(t, "backlog at start", time.Second); b["due"] != float64(1) || b["scheduled"] != float64(0) {
		t.Fatalf("backlog line: %v", b)
	}
	key = strings.TrimSpace(readFile(t, filepath.Join(dataDir, "admin.key")))
	var got map[string]any
	testwait.For(t, "the delivery to succeed after the restart", func() bool {
		req, _ := http.NewRequest("GET", url+"/api/v1/projects/stop/deliveries/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got = nil
		_ = json.NewDecoder(res.Body).Decode(&got)
		res.Body.Close()
		logs.mu.Lock()
		ended := logs.ended
		logs.mu.Unlock()
		if ended && got["status"] != "succeeded" {
			t.Fatalf("the server ended before the delivery succeeded: %v", got)
		}
		return got["status"] == "succeeded"
	})
	// The abandoned request counted no attempt: the one that succeeded is
	// the first.
	if got["attempts"] != float64(1) || !strings.Contains(id, strings.TrimPrefix(ev["id"].(string), "evt_")) {
		t.Fatalf("delivery after the restart: %v (event %v)", got, ev["id"])
	}
	mu.Lock()
	defer mu.Unlock()
	if len(delivered) != 1 || delivered[0] != id {
		t.Fatalf("delivered after the restart: %v, want [%s]", delivered, id)
	}
}
