package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// startWith runs serve with extra environment and arguments.
func startWith(t *testing.T, bin, dataDir string, env []string, args ...string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir}, args...)...)
	cmd.Env = append(append(os.Environ(), "HOOKGATE_ADMIN_KEY=", "HOOKGATE_DATABASE_URL=", "HOOKGATE_ENCRYPTION_KEY="), env...)
	url, _, c := startCmd(t, cmd)
	return url, c
}

// TestKill9LosesNothing kills a real server with SIGKILL while events pour
// in, starts it again, and checks that every event that got a 202 reaches
// the receiver, with few duplicates.
func TestKill9LosesNothing(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dataDir := t.TempDir()
	var mu sync.Mutex
	seen := map[string]int{} // webhook-id -> requests
	recv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond) // a receiver that takes a moment, so that sends are in flight at the kill
		mu.Lock()
		seen[r.Header.Get("webhook-id")]++
		mu.Unlock()
	}))
	defer recv.Close()
	env := []string{"HOOKGATE_ALLOW_NETWORKS=127.0.0.0/8"}
	args := []string{"--lease", "3s", "--send-timeout", "2s"}
	url, cmd := startWith(t, bin, dataDir, env, args...)
	key := strings.TrimSpace(readFile(t, filepath.Join(dataDir, "admin.key")))
	post := func(base, path string, body any) (int, map[string]any) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+"/api/v1"+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-API-Key", key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}
	if st, _ := post(url, "/projects", map[string]any{"name": "crash"}); st != 201 {
		t.Fatalf("project: %d", st)
	}
	if st, _ := post(url, "/projects/crash/webhooks", map[string]any{"url": recv.URL + "/hook"}); st != 201 {
		t.Fatalf("webhook: %d", st)
	}
	// Producers send until the server dies; they keep the IDs of the 202s.
	var accepted sync.Map
	var count atomic.Int64
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
					count.Add(1)
				}
			}
		}()
	}
	// Kill once enough events are in, so that the few requests in flight at
	// the kill are a small share; a loaded machine takes longer to get there.
	for until := time.Now().Add(20 * time.Second); count.Load() < 1000 && time.Now().Before(until); {
		time.Sleep(50 * time.Millisecond)
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
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		missing, dups, total := 0, 0, 0
		byEvent := map[string]int{}
		for id, n := range seen {
			byEvent[strings.TrimPrefix(id, "msg_")[:26]] += n
			total += n
			dups += n - 1
		}
		mu.Unlock()
		for _, ev := range want {
			if byEvent[strings.TrimPrefix(ev, "evt_")] == 0 {
				missing++
			}
		}
		if missing == 0 {
			t.Logf("%d events accepted, all delivered; %d duplicate requests of %d (%.2f%%)", len(want), dups, total, 100*float64(dups)/float64(total))
			if float64(dups) > 0.05*float64(len(want)) {
				t.Fatalf("%d duplicates for %d events: over 5%%", dups, len(want))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d accepted events never reached the receiver", missing, len(want))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
