package main_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/testwait"
)

// startWith runs serve with extra environment and arguments.
func startWith(t testing.TB, bin, dataDir string, env []string, args ...string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir}, args...)...)
	cmd.Env = append(append(os.Environ(), "HOOKGATE_ADMIN_KEY=", "HOOKGATE_DATABASE_URL=", "HOOKGATE_ENCRYPTION_KEY="), env...)
	url, _, c := startCmd(t, cmd)
	return url, c
}

// TestKill9LosesNothing kills a real server with SIGKILL while events pour
// in, starts it again, and checks that every event that got a 202 reaches
// the receiver, with few duplicates, and soon: the restarted server takes
// back at once the rows the dead one had claimed, without waiting for
// their (default, two-minute) lease or for the dead process's heartbeat to
// age. The goal is 10 s; the bound leaves a loaded machine room and still
// fails either wait.
func TestKill9LosesNothing(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dataDir := t.TempDir()
	// A receiver slower than the producers (8 requests at a time, 20 ms
	// each), so that a backlog builds: at the kill the dead server holds
	// claimed rows, waiting in memory and in flight.
	recv := newReceiver(t, 20*time.Millisecond)
	env := []string{"HOOKGATE_ALLOW_NETWORKS=127.0.0.0/8"}
	// A long node timeout: the restarted server must not wait for the dead
	// one's heartbeat to age either.
	args := []string{"--send-timeout", "2s", "--node-timeout", "2m"}
	url, cmd := startWith(t, bin, dataDir, env, args...)
	key := strings.TrimSpace(readFile(t, filepath.Join(dataDir, "admin.key")))
	post := func(base, path string, body any) (int, map[string]any) { return postJSON(base, key, path, body) }
	if st, _ := post(url, "/projects", map[string]any{"name": "crash"}); st != 201 {
		t.Fatalf("project: %d", st)
	}
	if st, _ := post(url, "/projects/crash/webhooks", map[string]any{"url": recv.URL + "/hook"}); st != 201 {
		t.Fatalf("webhook: %d", st)
	}
	// Producers send until the server dies; they keep the IDs of the 202s.
	var accepted sync.Map
	var count atomic.Int64
	enough := make(chan struct{}) // closed at the 1,000th
	tell := sync.OnceFunc(func() { close(enough) })
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				st, out := post(url, "/projects/crash/events", map[string]any{"type": "t", "data": fmt.Sprintf("%d-%d", g, i)})
				if st == 0 {
					return // the server is gone
				}
				if st == 202 {
					accepted.Store(out["id"].(string), true)
					if count.Add(1) >= 1000 {
						tell()
					}
				}
			}
		}()
	}
	// Kill once enough events are in, so that the few requests in flight at
	// the kill are a small share; a loaded machine takes longer to get there.
	select {
	case <-enough:
	case <-time.After(testwait.Timeout): // kill with fewer: at least 100 are needed below
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	_ = cmd.Wait()

	startWith(t, bin, dataDir, env, args...)
	var want []string
	accepted.Range(func(k, _ any) bool { want = append(want, k.(string)); return true })
	if len(want) < 100 {
		t.Fatalf("only %d events were accepted before the kill", len(want))
	}
	// Duplicates are what at-least-once allows: the requests in flight at
	// the kill, and those answered whose outcomes waited for the next
	// commit and its fsync (SQLite syncs every commit). Measured 3–5.3 % on
	// a loaded 2-core machine; the bound is twice that, and still fails a
	// restart that sends again what was recorded.
	recv.waitAllDelivered(t, want, "accepted, after the restart", maxKillDuplicates, 40*time.Second)
}

// maxKillDuplicates is the share of duplicate requests a kill -9 may cause.
const maxKillDuplicates = 0.10

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
