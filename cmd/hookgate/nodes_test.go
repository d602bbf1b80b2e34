package main_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/secrets"
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
// loaded machine room and still fails a wait for the lease. It takes 7 to
// 20 s, so -short (make test-short) skips it.
func TestTwoNodesShareWork(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: may wait out a killed node's 15 s heartbeat timeout (7-20 s a run)")
	}
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
	recv.waitAllDelivered(t, append(first, second...), "in all, node A killed", maxKillDuplicates, 50*time.Second)
}

// refused runs serve, which must stop on its own within 30 s, and returns
// what it wrote.
func refused(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--metrics-addr", ""}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("serve %v was not refused (%v):\n%s", args, err, out)
	}
	return string(out)
}

// fingerprintOf is the fingerprint of the encryption key a data dir holds.
func fingerprintOf(t *testing.T, dataDir string) (string, string) {
	t.Helper()
	raw := readFile(t, filepath.Join(dataDir, "encryption.key"))
	key, err := secrets.ParseKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	box, err := secrets.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(raw), box.Fingerprint()
}

// stop ends a server with SIGTERM and waits for it.
func stop(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
}

// Issue 21, item 9: two nodes on one PostgreSQL, each started without
// HOOKGATE_ENCRYPTION_KEY, used to generate a key each and run, and the
// deliveries of one's webhooks waited for it in silence. The second node
// now refuses to start, naming the cluster key's fingerprint and what to
// do. rotate-key to the second node's key records it: that node then
// starts, and the first, on the old key, is refused.
func TestSecondNodeWithItsOwnEncryptionKeyRefusesToStart(t *testing.T) {
	t.Parallel()
	if len(sqltest.Engines(t)) < 2 {
		t.Skip("needs PostgreSQL")
	}
	dbURL := sqltest.Schema(t)
	bin := buildBinary(t)
	const admin = "two-keys-admin-key-0123456789abcdef"
	env := []string{"HOOKGATE_ALLOW_NETWORKS=127.0.0.0/8", "HOOKGATE_ADMIN_KEY=" + admin, "HOOKGATE_ENCRYPTION_KEY=", "HOOKGATE_DATABASE_URL=" + dbURL}
	dirA, dirB := t.TempDir(), t.TempDir()
	urlA, nodeA := startWith(t, bin, dirA, env, "--metrics-addr", "")
	if st, _ := postJSON(urlA, admin, "/projects", map[string]any{"name": "keys"}); st != 201 {
		t.Fatalf("project: %d", st)
	}
	if st, _ := postJSON(urlA, admin, "/projects/keys/webhooks", map[string]any{"url": "http://127.0.0.1:9/hook"}); st != 201 {
		t.Fatalf("webhook: %d", st)
	}
	keyA, fpA := fingerprintOf(t, dirA)
	out := refused(t, bin, env, "--data-dir", dirB)
	_, fpB := fingerprintOf(t, dirB) // generated at this start
	for _, want := range []string{"fingerprint " + fpB + ") is not the cluster's (fingerprint " + fpA + ")",
		"set HOOKGATE_ENCRYPTION_KEY to the cluster's key, the one with fingerprint " + fpA, "hookgate rotate-key --old-encryption-key"} {
		if !strings.Contains(out, want) {
			t.Fatalf("the refusal does not say %q:\n%s", want, out)
		}
	}

	// The cluster moves to B's key: rotate-key with A's as the old one.
	stop(nodeA)
	rot := exec.Command(bin, "rotate-key", "--data-dir", dirB, "--database-url", dbURL, "--old-encryption-key", keyA)
	rot.Env = append(os.Environ(), "HOOKGATE_ENCRYPTION_KEY=", "HOOKGATE_DATABASE_URL=")
	if out, err := rot.CombinedOutput(); err != nil || !strings.Contains(string(out), "the database now records its fingerprint, "+fpB) {
		t.Fatalf("rotate-key: %v\n%s", err, out)
	}
	startWith(t, bin, dirB, env, "--metrics-addr", "")
	if out := refused(t, bin, env, "--data-dir", dirA); !strings.Contains(out, "is not the cluster's (fingerprint "+fpB+")") {
		t.Fatalf("node A on the old key:\n%s", out)
	}
}

// Issue 21, item 9: on PostgreSQL a node without HOOKGATE_ADMIN_KEY warns
// that the cluster's nodes need one shared key; a second node with another
// admin key (its own data dir's) refuses to start while the first is live.
// Once the first has stopped, the second starts with its key, which
// replaces the record: the first, started again, is refused in turn.
func TestClusterRefusesASecondAdminKey(t *testing.T) {
	t.Parallel()
	if len(sqltest.Engines(t)) < 2 {
		t.Skip("needs PostgreSQL")
	}
	bin := buildBinary(t)
	env := []string{"HOOKGATE_ADMIN_KEY=", "HOOKGATE_ENCRYPTION_KEY=" + strings.Repeat("ab", 32), "HOOKGATE_DATABASE_URL=" + sqltest.Schema(t)}
	dirA, dirB := t.TempDir(), t.TempDir()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--metrics-addr", "", "--data-dir", dirA)
	cmd.Env = append(os.Environ(), env...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	testwait.For(t, "the first node to listen", func() bool { return strings.Contains(stderr.String(), "hookgate listening") })
	if !strings.Contains(stderr.String(), "every node on this database needs the same HOOKGATE_ADMIN_KEY") {
		t.Fatalf("no warning:\n%s", stderr.String())
	}
	out := refused(t, bin, env, "--data-dir", dirB)
	if !strings.Contains(out, "this node's admin key is not the one the live nodes run with") || !strings.Contains(out, "set HOOKGATE_ADMIN_KEY to theirs") {
		t.Fatalf("a second admin key beside a live node:\n%s", out)
	}
	stop(cmd)
	startCmd(t, envCmd(exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--metrics-addr", "", "--data-dir", dirB), env))
	if out := refused(t, bin, env, "--data-dir", dirA); !strings.Contains(out, "this node's admin key is not the one the live nodes run with") {
		t.Fatalf("the first admin key, after the second replaced it:\n%s", out)
	}
}

// envCmd gives cmd the test's environment and env.
func envCmd(cmd *exec.Cmd, env []string) *exec.Cmd {
	cmd.Env = append(os.Environ(), env...)
	return cmd
}
