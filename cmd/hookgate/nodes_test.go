package main_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// TestTwoNodesShareWork runs two real servers on one PostgreSQL schema. While
// both live, events sent to either are delivered exactly once between them:
// no row is sent by two nodes. When one node is killed, the other takes its
// claimed work over after the lease: everything is delivered, and the killed
// node's sent-but-unrecorded requests are sent again (at least once).
// The other node takes the killed one's rows over when its heartbeat is
// older than --node-timeout (15 s), not when their two-minute lease ends:
// the goal is everything within 20 s of the kill; the bound leaves a
// loaded machine room and still fails a wait for the lease.
func TestTwoNodesShareWork(t *testing.T) {
	t.Parallel()
	if len(sqltest.Engines(t)) < 2 {
		t.Skip("needs PostgreSQL")
	}
	dbURL := sqltest.Schema(t)
	bin := buildBinary(t)
	recv := newReceiver(t, time.Millisecond)
	env := []string{"HOOKGATE_ALLOW_NETWORKS=127.0.0.0/8", "HOOKGATE_ADMIN_KEY=two-node-admin-key-0123456789abcdef",
		"HOOKGATE_ENCRYPTION_KEY=" + strings.Repeat("ab", 32), "HOOKGATE_DATABASE_URL=" + dbURL}
	args := []string{"--send-timeout", "2s"}
	urlA, nodeA := startWith(t, bin, t.TempDir(), env, args...)
	urlB, _ := startWith(t, bin, t.TempDir(), env, args...)
	post := func(base, path string, body any) (int, map[string]any) {
		return postJSON(base, "two-node-admin-key-0123456789abcdef", path, body)
	}
	if st, _ := post(urlA, "/projects", map[string]any{"name": "nodes"}); st != 201 {
		t.Fatalf("project: %d", st)
	}
	if st, _ := post(urlB, "/projects/nodes/webhooks", map[string]any{"url": recv.URL + "/hook"}); st != 201 {
		t.Fatalf("webhook: %d", st)
	}
	send := func() []string {
		var accepted []string
		var amu sync.Mutex
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				base := urlA
				if g%2 == 1 {
					base = urlB
				}
				for i := range 50 {
					events := make([]map[string]any, 10)
					for j := range events {
						events[j] = map[string]any{"type": "t", "data": fmt.Sprintf("%d-%d-%d", g, i, j)}
					}
					st, out := post(base, "/projects/nodes/events/batch", map[string]any{"events": events})
					if st != 202 {
						t.Errorf("batch: %d", st)
						return
					}
					amu.Lock()
					for _, e := range out["data"].([]any) {
						accepted = append(accepted, e.(map[string]any)["id"].(string))
					}
					amu.Unlock()
				}
			}()
		}
		wg.Wait()
		return accepted
	}
	first := send()
	recv.waitAllDelivered(t, first, "sent to two live nodes", 0, time.Minute)
	// Kill node A while the second round is delivered: B finishes it.
	second := send()
	_ = nodeA.Process.Kill()
	recv.waitAllDelivered(t, append(first, second...), "in all, node A killed", 0.05, 50*time.Second)
}

// On PostgreSQL, a node without HOOKGATE_ADMIN_KEY warns that the
// cluster's nodes need one shared key.
func TestClusterWarnsWithoutSharedAdminKey(t *testing.T) {
	t.Parallel()
	if len(sqltest.Engines(t)) < 2 {
		t.Skip("needs PostgreSQL")
	}
	bin := buildBinary(t)
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir())
	cmd.Env = append(os.Environ(), "HOOKGATE_ADMIN_KEY=", "HOOKGATE_ENCRYPTION_KEY="+strings.Repeat("ab", 32), "HOOKGATE_DATABASE_URL="+sqltest.Schema(t))
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "hookgate listening") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(stderr.String(), "every node on this database needs the same HOOKGATE_ADMIN_KEY") {
		t.Fatalf("no warning:\n%s", stderr.String())
	}
}
