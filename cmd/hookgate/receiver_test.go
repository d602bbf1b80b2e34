package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/testwait"
)

// postJSON posts body to base+"/api/v1"+path with an API key. Status 0 means
// the server did not answer.
func postJSON(base, key, path string, body any) (int, map[string]any) {
	b, _ := json.Marshal(body)
	return (&poster{client: http.DefaultClient, key: key}).post(base+"/api/v1"+path, b)
}

// receiver counts the requests of each webhook-id it is sent.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string]int
	// last is when each webhook-id's latest request ended.
	last map[string]time.Time
}

func newReceiver(t *testing.T, delay time.Duration) *receiver {
	r := &receiver{seen: map[string]int{}, last: map[string]time.Time{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		time.Sleep(delay) // a receiver that takes a moment, so that sends are in flight
		id := req.Header.Get("webhook-id")
		r.mu.Lock()
		r.seen[id]++
		r.last[id] = time.Now()
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

// waitAllDelivered waits up to within until every event in accepted has
// reached r (a delivery ID holds its event's ID), then fails if more than
// maxDup (a fraction of the events) of the requests were duplicates.
func (r *receiver) waitAllDelivered(t *testing.T, accepted []string, what string, maxDup float64, within time.Duration) {
	t.Helper()
	start := time.Now()
	var dups, total int
	testwait.Within(t, fmt.Sprintf("every one of %d accepted events %s to reach the receiver", len(accepted), what), within, func() bool {
		r.mu.Lock()
		byEvent := map[string]int{}
		dups, total = 0, 0
		for id, n := range r.seen {
			byEvent[strings.TrimPrefix(id, "msg_")[:26]] += n
			total += n
			dups += n - 1
		}
		r.mu.Unlock()
		for _, ev := range accepted {
			if byEvent[strings.TrimPrefix(ev, "evt_")] == 0 {
				return false
			}
		}
		return true
	})
	t.Logf("%d events %s, all delivered within %s; %d duplicate requests of %d (%.2f%%)", len(accepted), what,
		time.Since(start).Round(10*time.Millisecond), dups, total, 100*float64(dups)/float64(total))
	if float64(dups) > maxDup*float64(len(accepted)) {
		t.Fatalf("%d duplicates for %d events: over %.0f%%", dups, len(accepted), 100*maxDup)
	}
}

// lastAt returns when the latest request of any of events reached r (a
// delivery ID holds its event's ID): after a kill, when the last of the
// dead node's unrecorded requests was sent again.
func (r *receiver) lastAt(events []string) time.Time {
	want := map[string]bool{}
	for _, ev := range events {
		want[strings.TrimPrefix(ev, "evt_")] = true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var last time.Time
	for id, at := range r.last {
		if want[strings.TrimPrefix(id, "msg_")[:26]] && at.After(last) {
			last = at
		}
	}
	return last
}
