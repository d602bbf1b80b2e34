package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// receiver is the webhook receiver: it keeps the first arrival time of each
// webhook-id and counts the repeats. Requests to /slow wait slowFor before
// the answer. A receiver bySeq keys each arrival by the seq in the event's
// data instead, and keeps the send time the data carries (see arrive): the
// broker scenarios' HTTP receiver, and where their brokers' readers record
// what they read.
type receiver struct {
	addr    string
	srv     *http.Server
	slowFor time.Duration
	bySeq   bool

	mu        sync.Mutex
	arrivals  map[string]time.Time
	sent      map[string]time.Time // bySeq: the send time in each event's data
	uncounted int                  // first arrivals at /slow and /extra
	repeats   int
	last      time.Time
}

// newReceiver starts a receiver on a loopback port; when down, the port is
// reserved but nothing listens until up is called.
func newReceiver(down bool, slowFor time.Duration) (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{addr: ln.Addr().String(), slowFor: slowFor, arrivals: map[string]time.Time{}}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 10 * time.Second}
	if down {
		ln.Close()
		return r, nil
	}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// up starts listening on the reserved port.
func (r *receiver) up() error {
	var ln net.Listener
	var err error
	for range 50 { // the port was free a moment ago; retry briefly if it is in TIME_WAIT use
		if ln, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("receiver back up on %s: %w", r.addr, err)
	}
	go func() { _ = r.srv.Serve(ln) }()
	return nil
}

func (r *receiver) url(path string) string { return "http://" + r.addr + path }

func (r *receiver) serve(rw http.ResponseWriter, req *http.Request) {
	now := time.Now()
	if r.bySeq {
		body, _ := io.ReadAll(req.Body)
		r.arrive(body, now)
		rw.WriteHeader(http.StatusNoContent)
		return
	}
	_, _ = io.Copy(io.Discard, req.Body)
	id := req.Header.Get("webhook-id")
	r.mu.Lock()
	if _, seen := r.arrivals[id]; seen || id == "" {
		r.repeats++
	} else {
		r.arrivals[id] = now
		if req.URL.Path == "/slow" || req.URL.Path == "/extra" {
			r.uncounted++
		}
	}
	r.last = now
	r.mu.Unlock()
	if req.URL.Path == "/slow" {
		time.Sleep(r.slowFor)
	}
	rw.WriteHeader(http.StatusNoContent)
}

func (r *receiver) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = r.srv.Shutdown(ctx)
	_ = r.srv.Close()
}

// snapshot returns the first arrival of every delivery by webhook-id, and
// how many requests repeated one already seen.
func (r *receiver) snapshot() (map[string]time.Time, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]time.Time, len(r.arrivals))
	for id, at := range r.arrivals {
		out[id] = at
	}
	return out, r.repeats
}

// counted is the number of first arrivals at every path but /slow and
// /extra.
func (r *receiver) counted() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.arrivals) - r.uncounted
}

// accepted is an event that got a 202, when the answer came, and how long
// the request took (from sending it to the answer).
type accepted struct {
	id   string // without "evt_"
	at   time.Time
	took time.Duration
	// only is the webhook (its ID without "wh_") whose filter alone the
	// event passes; "" when it is meant for every webhook counted.
	only string
}

// hooks returns the webhooks of all that a should reach.
func (a accepted) hooks(all []string) []string {
	if a.only == "" {
		return all
	}
	return []string{a.only}
}

// loader posts events to the server, its requests spread round-robin over
// the server's nodes.
type loader struct {
	client *http.Client
	urls   []string // each node's …/events or …/events/batch
	next   atomic.Uint64
	batch  bool // urls are the batch endpoint
	key    string

	// only, when set, is the webhook whose filter alone the events of
	// floodBodies' body i pass: only[i mod len(only)].
	only []string

	mu       sync.Mutex
	accepted []accepted
	errors   atomic.Int64
}

// newLoader returns a loader that posts to the servers at bases in turn.
func newLoader(bases []string, key string, batch bool, conns int) *loader {
	l := &loader{batch: batch, key: key, client: newClient(conns)}
	for _, base := range bases {
		u := base + "/api/v1/projects/bench/events"
		if batch {
			u += "/batch"
		}
		l.urls = append(l.urls, u)
	}
	return l
}

func newClient(conns int) *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		MaxIdleConns: conns * 2, MaxIdleConnsPerHost: conns * 2, IdleConnTimeout: time.Minute,
	}}
}

var eventBody = []byte(`{"type":"order.created","data":{"id":12345,"amount":"19.99","currency":"EUR"}}`)

func batchBody(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"events":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(eventBody)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// post sends one request of n events and keeps what was accepted.
func (l *loader) post(body []byte, n int) { l.postAs(body, n, "", "") }

// postSeq sends event seq, whose data carries seq and the time it is sent
// (seqBody), and keeps it as accepted under its seq rather than its ID: the
// broker scenarios' readers know an event by its data alone.
func (l *loader) postSeq(seq int64) {
	l.postAs(seqBody(seq, time.Now()), 1, strconv.FormatInt(seq, 10), "")
}

// postAs sends one request of n events and keeps what was accepted, under
// key rather than the event's ID when key is set (n is then 1), and meant
// for the webhook only alone when only is set (see accepted.only).
func (l *loader) postAs(body []byte, n int, key, only string) {
	u := l.urls[(l.next.Add(1)-1)%uint64(len(l.urls))]
	req, _ := http.NewRequest("POST", u, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", l.key)
	sent := time.Now()
	res, err := l.client.Do(req)
	if err != nil {
		l.errors.Add(int64(n))
		return
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	now := time.Now()
	if res.StatusCode != http.StatusAccepted {
		l.errors.Add(int64(n))
		return
	}
	var ids []string
	if !l.batch {
		var one struct{ ID string }
		if json.Unmarshal(raw, &one) == nil {
			ids = append(ids, one.ID)
		}
	} else {
		var many struct{ Data []struct{ ID string } }
		if json.Unmarshal(raw, &many) == nil {
			for _, e := range many.Data {
				ids = append(ids, e.ID)
			}
		}
	}
	if len(ids) != n {
		l.errors.Add(int64(n))
		return
	}
	if key != "" {
		ids = []string{key}
	}
	l.mu.Lock()
	for _, id := range ids {
		l.accepted = append(l.accepted, accepted{id: strings.TrimPrefix(id, "evt_"), at: now, took: now.Sub(sent), only: only})
	}
	l.mu.Unlock()
}

// flood posts from conns goroutines as fast as answers come, batch events a
// request, until ctx ends or limit events were offered (0: no limit).
func (l *loader) flood(ctx context.Context, conns, batch, limit int) {
	body := eventBody
	if l.batch {
		body = batchBody(batch)
	}
	l.offer(ctx, conns, batch, limit, func(_ int64, n int) {
		if n < batch {
			l.post(batchBody(n), n) // the last, partial batch
			return
		}
		l.post(body, n)
	})
}

// floodSeq posts single events from conns goroutines as fast as answers
// come, until ctx ends, each with its seq and send time in its data.
func (l *loader) floodSeq(ctx context.Context, conns int) {
	l.offer(ctx, conns, 1, 0, func(from int64, _ int) { l.postSeq(from) })
}

// floodKeyed posts limit single events from conns goroutines as fast as
// answers come, event i with the ordering key "k<i mod keys>" in its data.
func (l *loader) floodKeyed(ctx context.Context, conns, keys, limit int) {
	bodies := make([][]byte, keys)
	for k := range bodies {
		bodies[k] = fmt.Appendf(nil, `{"type":"order.updated","data":{"k":"k%d","id":12345,"amount":"19.99","currency":"EUR"}}`, k)
	}
	l.offer(ctx, conns, 1, limit, func(from int64, _ int) { l.post(bodies[from%int64(keys)], 1) })
}

// floodBodies posts single events from conns goroutines as fast as answers
// come, until ctx ends, event i with bodies[i mod len(bodies)]; with l.only
// set, each is meant for its body's webhook alone.
func (l *loader) floodBodies(ctx context.Context, conns int, bodies [][]byte) {
	l.offer(ctx, conns, 1, 0, func(from int64, _ int) {
		i := int(from % int64(len(bodies)))
		only := ""
		if len(l.only) > 0 {
			only = l.only[i%len(l.only)]
		}
		l.postAs(bodies[i], 1, "", only)
	})
}

// offer posts from conns goroutines as fast as answers come, batch events a
// request, until ctx ends or limit events were offered (0: no limit); send
// posts the request of the n events from the from-th offered.
func (l *loader) offer(ctx context.Context, conns, batch, limit int, send func(from int64, n int)) {
	var wg sync.WaitGroup
	var offered atomic.Int64
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				n := batch
				from := offered.Add(int64(batch)) - int64(batch)
				if limit > 0 {
					if from >= int64(limit) {
						return
					}
					n = int(min(int64(batch), int64(limit)-from))
				}
				send(from, n)
			}
		}()
	}
	wg.Wait()
}

// steady offers rate single events a second until ctx ends, from a pool of
// goroutines large enough that a slow answer does not lower the rate.
func (l *loader) steady(ctx context.Context, rate, conns int) {
	l.steadyWith(ctx, rate, conns, func(int64) { l.post(eventBody, 1) })
}

// steadySeq is steady with the seq and send time of each event in its data.
func (l *loader) steadySeq(ctx context.Context, rate, conns int) {
	l.steadyWith(ctx, rate, conns, l.postSeq)
}

// steadyWith calls send with 0, 1, 2… rate times a second until ctx ends,
// from conns goroutines.
func (l *loader) steadyWith(ctx context.Context, rate, conns int, send func(i int64)) {
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				at := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
				wait := time.Until(at)
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
				send(i)
			}
		}()
	}
	wg.Wait()
}

func (l *loader) snapshot() []accepted {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]accepted(nil), l.accepted...)
}

// baseline posts the event body straight to a receiver from conns
// goroutines for d and returns requests a second.
func baseline(d time.Duration, conns int) (float64, error) {
	r, err := newReceiver(false, 0)
	if err != nil {
		return 0, err
	}
	defer r.close()
	client := newClient(conns)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var n, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequest("POST", r.url("/baseline"), bytes.NewReader(eventBody))
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						failed.Add(1)
					}
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		return 0, fmt.Errorf("baseline: %d requests failed", failed.Load())
	}
	return float64(n.Load()) / time.Since(start).Seconds(), nil
}
