package main_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// fifoReceiver keeps, per ordering key, the sequence numbers of the events
// it received in the order it received them, and notes every request that
// arrived while another of its key was in flight.
type fifoReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	inFlight map[string]bool
	got      map[string][]int
	overlaps []string
}

func newFIFOReceiver(t *testing.T, delay time.Duration) *fifoReceiver {
	r := &fifoReceiver{inFlight: map[string]bool{}, got: map[string][]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		var ev struct {
			Data struct {
				K   string `json:"k"`
				Seq int    `json:"seq"`
			} `json:"data"`
		}
		body, _ := io.ReadAll(req.Body)
		if err := json.Unmarshal(body, &ev); err != nil {
			rw.WriteHeader(http.StatusBadRequest)
			return
		}
		k := ev.Data.K
		r.mu.Lock()
		if r.inFlight[k] {
			r.overlaps = append(r.overlaps, fmt.Sprintf("key %s: %d arrived while another was in flight", k, ev.Data.Seq))
		}
		r.inFlight[k] = true
		r.mu.Unlock()
		time.Sleep(delay)
		r.mu.Lock()
		r.inFlight[k] = false
		r.got[k] = append(r.got[k], ev.Data.Seq)
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

// check waits until every key has received sent[key] events, then fails on
// an overlap, a sequence out of order, or more duplicates than dupsPerKey
// per key (a duplicate must follow its first copy at once: it is the head
// that was in flight, sent again).
func (r *fifoReceiver) check(t *testing.T, sent map[string]int, dupsPerKey int, within time.Duration) {
	t.Helper()
	distinct := func(seqs []int) int {
		seen := map[int]bool{}
		for _, s := range seqs {
			seen[s] = true
		}
		return len(seen)
	}
	testwait.Within(t, "every accepted event at the receiver", within, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for k, n := range sent {
			if distinct(r.got[k]) < n {
				return false
			}
		}
		return true
	})
	total, _ := r.verify(t, dupsPerKey)
	t.Logf("%d keys, %d requests for %d events", len(sent), total, sumOf(sent))
}

// verify fails on an overlap, a sequence out of order, or more duplicates
// than dupsPerKey for a key (a duplicate must follow its first copy at
// once), and returns the requests received and the duplicates.
func (r *fifoReceiver) verify(t *testing.T, dupsPerKey int) (total, dups int) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range r.overlaps {
		t.Error(o)
	}
	for k, seqs := range r.got {
		kd := 0
		for i := 1; i < len(seqs); i++ {
			switch {
			case seqs[i] == seqs[i-1]:
				kd++
			case seqs[i] < seqs[i-1]:
				t.Errorf("key %s received %v: out of order at %d", k, seqs, i)
			}
		}
		if kd > dupsPerKey {
			t.Errorf("key %s received %d duplicates: %v", k, kd, seqs)
		}
		total += len(seqs)
		dups += kd
	}
	return total, dups
}

func sumOf(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// produceKeyed runs producers that each post the events of their own keys,
// one after the other, so that each key's acceptance order is its sequence
// order, to the bases in turn, until stop is closed or a base stops
// answering. It returns the number of events each key had accepted.
func produceKeyed(post func(base, path string, body any) (int, map[string]any), bases []string, producers, keysEach int, stop <-chan struct{}, accepted *atomic.Int64) map[string]int {
	var mu sync.Mutex
	sent := map[string]int{}
	var wg sync.WaitGroup
	for g := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := fmt.Sprintf("p%d-k%d", g, i%keysEach)
				mu.Lock()
				seq := sent[k]
				mu.Unlock()
				st, _ := post(bases[i%len(bases)], "/projects/fifo/events", map[string]any{"type": "t", "data": map[string]any{"k": k, "seq": seq}})
				if st != 202 {
					return // the server is gone
				}
				mu.Lock()
				sent[k] = seq + 1
				mu.Unlock()
				accepted.Add(1)
			}
		}()
	}
	wg.Wait()
	return sent
}

// Issue 24, item 1: ordered delivery holds across kill -9 and a restart on
// the embedded store: every accepted event arrives, each key's in order,
// one in flight at a time; the only duplicate a key may get is the head
// that was in flight at the kill.
func TestFIFOSurvivesKill9(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dataDir := t.TempDir()
	recv := newFIFOReceiver(t, 2*time.Millisecond)
	env := []string{"HOOKGATE_ALLOW_NETWORKS=127.0.0.0/8"}
	args := []string{"--send-timeout", "2s", "--node-timeout", "2m"}
	url, cmd := startWith(t, bin, dataDir, env, args...)
	key := strings.TrimSpace(readFile(t, filepath.Join(dataDir, "admin.key")))
	post := func(base, path string, body any) (int, map[string]any) { return postJSON(base, key, path, body) }
	if st, _ := post(url, "/projects", map[string]any{"name": "fifo"}); st != 201 {
		t.Fatalf("project: %d", st)
	}
	if st, _ := post(url, "/projects/fifo/webhooks", map[string]any{"url": recv.URL + "/hook", "ordering": "fifo", "orderingKey": "/data/k"}); st != 201 {
		t.Fatalf("webhook: %d", st)
	}
	var accepted atomic.Int64
	stop := make(chan struct{})
	done := make(chan map[string]int)
	go func() { done <- produceKeyed(post, []string{url}, 6, 3, stop, &accepted) }()
	began := time.Now()
	testwait.For(t, "600 events accepted", func() bool { return accepted.Load() >= 600 })
	t.Logf("600 accepted in %s", time.Since(began))
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	close(stop)
	sent := <-done
	_ = cmd.Wait()
	startWith(t, bin, dataDir, env, args...)
	began = time.Now()
	recv.check(t, sent, 1, 30*time.Second)
	t.Logf("all delivered %s after the restart", time.Since(began))
}

// Issue 24, item 1: on two PostgreSQL nodes taking events and delivering
// at once, each key's events arrive in the order they were accepted (a
// producer sends them to the two nodes in turn), never two of one key in
// flight, with no duplicate.
func TestFIFOOnTwoNodes(t *testing.T) {
	t.Parallel()
	if len(sqltest.Engines(t)) < 2 {
		t.Skip("needs PostgreSQL")
	}
	dbURL := sqltest.Schema(t)
	bin := buildBinary(t)
	recv := newFIFOReceiver(t, time.Millisecond)
	env := []string{"HOOKGATE_ALLOW_NETWORKS=127.0.0.0/8", "HOOKGATE_ADMIN_KEY=fifo-node-admin-key-0123456789abcdef",
		"HOOKGATE_ENCRYPTION_KEY=" + strings.Repeat("cd", 32), "HOOKGATE_DATABASE_URL=" + dbURL}
	args := []string{"--send-timeout", "2s"}
	urlA, _ := startWith(t, bin, t.TempDir(), env, args...)
	urlB, _ := startWith(t, bin, t.TempDir(), env, args...)
	post := func(base, path string, body any) (int, map[string]any) {
		return postJSON(base, "fifo-node-admin-key-0123456789abcdef", path, body)
	}
	if st, _ := post(urlA, "/projects", map[string]any{"name": "fifo"}); st != 201 {
		t.Fatalf("project: %d", st)
	}
	if st, _ := post(urlB, "/projects/fifo/webhooks", map[string]any{"url": recv.URL + "/hook", "ordering": "fifo", "orderingKey": "/data/k"}); st != 201 {
		t.Fatalf("webhook: %d", st)
	}
	var accepted atomic.Int64
	stop := make(chan struct{})
	done := make(chan map[string]int)
	go func() { done <- produceKeyed(post, []string{urlA, urlB}, 6, 3, stop, &accepted) }()
	began := time.Now()
	testwait.For(t, "600 events accepted", func() bool { return accepted.Load() >= 600 })
	t.Logf("600 accepted in %s", time.Since(began))
	close(stop)
	recv.check(t, <-done, 0, 30*time.Second) // a key left stranded waits for the minute's repair: fails
	t.Logf("all delivered %s after the first was sent", time.Since(began))
}
