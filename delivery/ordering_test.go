package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/internal/testwait"
)

// fifoReceiver fails a share of requests at random and records, per
// ordering key, the events it accepted and whether two requests of one key
// were ever in flight at once.
type fifoReceiver struct {
	mu       sync.Mutex
	inFlight map[string]bool
	got      map[string][]int
	overlaps []string
	fail     float64
}

func (f *fifoReceiver) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var ev struct {
		Data struct {
			K string `json:"k"`
			N int    `json:"n"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		rw.WriteHeader(http.StatusBadRequest)
		return
	}
	k := ev.Data.K
	f.mu.Lock()
	if f.inFlight[k] {
		f.overlaps = append(f.overlaps, fmt.Sprintf("key %s: event %d sent while another was in flight", k, ev.Data.N))
	}
	f.inFlight[k] = true
	fail := rand.Float64() < f.fail
	f.mu.Unlock()
	time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond) // let others overlap if they may
	f.mu.Lock()
	f.inFlight[k] = false
	if !fail {
		f.got[k] = append(f.got[k], ev.Data.N)
	}
	f.mu.Unlock()
	if fail {
		rw.WriteHeader(http.StatusServiceUnavailable)
	}
}

func (f *fifoReceiver) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, l := range f.got {
		n += len(l)
	}
	return n
}

// Issue 24, item 1: a FIFO webhook keyed on /data/k gets the events of each
// key in the order they were accepted, one in flight at a time, through
// random failures and their retries; keys go in parallel.
func TestOrderedDeliveryUnderRandomFailures(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		retries := make(hookgate.Schedule, 30)
		for i := range retries {
			retries[i] = 5 * time.Millisecond
		}
		h := runDispatcher(t, engine, retries)
		rcv := &fifoReceiver{inFlight: map[string]bool{}, got: map[string][]int{}, fail: 0.3}
		srv := httptest.NewServer(rcv)
		t.Cleanup(srv.Close)
		h.webhookWith(t, srv.URL, func(w *hookgate.Webhook) {
			w.Ordering, w.OrderingKey = hookgate.OrderingFIFO, "/data/k"
		})
		const keys, perKey = 5, 16
		n := 0
		for range 4 { // several batches, each with every key in it
			var in []hookgate.EventInput
			for range perKey / 4 {
				for k := range keys {
					in = append(in, hookgate.EventInput{Type: "order.updated", Data: json.RawMessage(fmt.Sprintf(`{"k":"k%d","n":%d}`, k, n))})
					n++
				}
			}
			if _, err := h.store.CreateEvents(context.Background(), h.proj, in); err != nil {
				t.Fatal(err)
			}
			h.disp.Wake()
		}
		testwait.For(t, "every event accepted by the receiver", func() bool { return rcv.total() == keys*perKey })
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		for _, o := range rcv.overlaps {
			t.Error(o)
		}
		for k, ns := range rcv.got {
			for i := 1; i < len(ns); i++ {
				if ns[i] <= ns[i-1] {
					t.Fatalf("key %s received %v: out of order", k, ns)
				}
			}
		}
	})
}
