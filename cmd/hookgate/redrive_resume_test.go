package main_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/secrets"
	"github.com/hookgate/hookgate/sqlstore"
)

// A redrive whose server was killed (SIGKILL) before its first batch is
// resumed by the restarted server at start, without anyone reading it:
// every delivery it selects reaches the receiver again, and it reads
// finished with the right counts.
func TestRedriveOfAKilledServerIsResumedAtRestart(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dataDir := t.TempDir()
	recv := newReceiver(t, 0)
	serveCmd := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir)
		cmd.Env = append(os.Environ(), "HOOKGATE_ALLOW_NETWORKS=127.0.0.0/8", "HOOKGATE_ADMIN_KEY=", "HOOKGATE_DATABASE_URL=",
			"HOOKGATE_ENCRYPTION_KEY=", "HOOKGATE_METRICS_ADDR=")
		return cmd
	}
	cmd := serveCmd()
	url, _ := startLogged(t, cmd)
	key := strings.TrimSpace(readFile(t, filepath.Join(dataDir, "admin.key")))
	post := func(path string, body any) map[string]any {
		t.Helper()
		st, got := postJSON(url, key, path, body)
		if st/100 != 2 {
			t.Fatalf("POST %s: %d %v", path, st, got["detail"])
		}
		return got
	}
	projectID := post("/projects", map[string]any{"name": "resume", "slug": "resume"})["id"].(string)
	post("/projects/resume/webhooks", map[string]any{"url": recv.URL + "/hook"})
	const n = 2*hookgate.RedriveBatch + 7
	events := make([]map[string]any, n)
	for i := range events {
		events[i] = map[string]any{"type": "order.created", "data": i}
	}
	for len(events) > 0 {
		batch := events[:min(len(events), hookgate.RedriveBatch)]
		post("/projects/resume/events/batch", map[string]any{"events": batch})
		events = events[len(batch):]
	}
	// Every delivery recorded succeeded (a request that reached the
	// receiver may not be recorded yet), so that the redrive selects n.
	testwait.For(t, "every delivery to be recorded", func() bool {
		pending, ok := getJSON(t, url, key, "/projects/resume/deliveries?status=pending")["data"].([]any)
		if !ok {
			t.Fatal("the list of deliveries has no data array")
		}
		return recv.total() >= n && len(pending) == 0
	})

	// The server dies right after accepting a redrive of every succeeded
	// delivery: stored running, leased by the dead process, never walked.
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	r := abandonRedrive(t, dataDir, projectID)

	url, log := startLogged(t, serveCmd())
	line := log.wait(t, "resuming a redrive whose node stopped", 30*time.Second)
	if line["redrive"] != r.ID {
		t.Fatalf("resumed %v, want %s", line["redrive"], r.ID)
	}
	// Nobody reads the redrive until its deliveries were all sent again.
	testwait.For(t, "every delivery to reach the receiver again", func() bool { return recv.total() >= 2*n })
	var got map[string]any
	testwait.For(t, "the redrive to read finished", func() bool {
		got = getJSON(t, url, key, "/projects/resume/redrives/"+r.ID)
		return got["state"] == hookgate.RedriveFinished
	})
	if got["matched"] != float64(n) || got["requeued"] != float64(n) {
		t.Fatalf("redrive %v, want %d matched and requeued", got, n)
	}
}

// abandonRedrive stores, in the stopped server's data dir, a redrive of the
// project's succeeded deliveries accepted a minute ago by a node that died
// at once: running, its lease expired, never walked.
func abandonRedrive(t *testing.T, dataDir, projectID string) *hookgate.Redrive {
	t.Helper()
	ctx := context.Background()
	k, err := secrets.LoadOrCreateKey("", filepath.Join(dataDir, "encryption.key"))
	if err != nil {
		t.Fatal(err)
	}
	box, err := secrets.NewBox(k)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: dataDir, Box: box, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	accepted := time.Now().Add(-time.Minute)
	r := &hookgate.Redrive{ID: hookgate.NewID(hookgate.PrefixRedrive, accepted), ProjectID: projectID, State: hookgate.RedriveRunning,
		Selection: hookgate.RedriveSelection{Status: hookgate.DeliverySucceeded}, StartedAt: accepted}
	if _, created, err := st.CreateRedrive(ctx, r, accepted.Add(hookgate.RedriveLease)); err != nil || !created {
		t.Fatalf("CreateRedrive = %v, %v", created, err)
	}
	return r
}

// total is how many requests r was sent.
func (r *receiver) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.seen {
		n += c
	}
	return n
}

// getJSON reads path of the API at base with key, failing on a status other
// than 200.
func getJSON(t *testing.T, base, key, path string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1"+path, nil)
	req.Header.Set("X-API-Key", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v (%v)", path, res.StatusCode, out, err)
	}
	return out
}
