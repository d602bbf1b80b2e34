package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// TestTwoNodesShareWork runs two real servers on one PostgreSQL schema: events
// sent to either are delivered once, by both nodes between them, and when one
// node is killed the other takes its claimed work over after the lease.
func TestTwoNodesShareWork(t *testing.T) {
	t.Parallel()
	if len(sqltest.Engines(t)) < 2 {
		t.Skip("needs PostgreSQL")
	}
	dbURL := sqltest.Schema(t)
	bin := buildBinary(t)
	var mu sync.Mutex
	seen := map[string]int{}
	recv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond)
		mu.Lock()
		seen[r.Header.Get("webhook-id")]++
		mu.Unlock()
	}))
	defer recv.Close()
	env := []string{"HOOKGATE_ALLOW_NETWORKS=127.0.0.0/8", "HOOKGATE_ADMIN_KEY=two-node-admin",
		"HOOKGATE_ENCRYPTION_KEY=" + strings.Repeat("ab", 32), "HOOKGATE_DATABASE_URL=" + dbURL}
	args := []string{"--lease", "3s", "--send-timeout", "2s"}
	urlA, nodeA := startWith(t, bin, t.TempDir(), env, args...)
	urlB, _ := startWith(t, bin, t.TempDir(), env, args...)
	post := func(base, path string, body any) (int, map[string]any) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+"/api/v1"+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-API-Key", "two-node-admin")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}
	if st, _ := post(urlA, "/projects", map[string]any{"name": "nodes"}); st != 201 {
		t.Fatalf("project: %d", st)
	}
	if st, _ := post(urlB, "/projects/nodes/webhooks", map[string]any{"url": recv.URL + "/hook"}); st != 201 {
		t.Fatalf("webhook: %d", st)
	}
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
			for i := range 100 {
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
	// Kill node A while deliveries are under way: B finishes its work.
	_ = nodeA.Process.Kill()
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		byEvent := map[string]int{}
		dups := 0
		for id, n := range seen {
			byEvent[strings.TrimPrefix(id, "msg_")[:26]] += n
			dups += n - 1
		}
		mu.Unlock()
		missing := 0
		for _, ev := range accepted {
			if byEvent[strings.TrimPrefix(ev, "evt_")] == 0 {
				missing++
			}
		}
		if missing == 0 {
			t.Logf("%d events delivered by two nodes; %d duplicate requests (%.2f%%)", len(accepted), dups, 100*float64(dups)/float64(len(accepted)))
			if float64(dups) > 0.05*float64(len(accepted)) {
				t.Fatalf("%d duplicates for %d events", dups, len(accepted))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events never delivered", missing, len(accepted))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
