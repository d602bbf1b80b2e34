package bench

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// relayTimeout bounds one forward, as a gateway's send timeout would.
const relayTimeout = 10 * time.Second

// relayMaxBody is the largest event the relay reads.
const relayMaxBody = 1 << 20

// Relay is the bench's plain reference: the least a webhook gateway does,
// with no store and no signing. It answers each POST 202 and then forwards
// the body to its target in a goroutine of its own, so that an event costs
// one inbound and one outbound request. It answers {"id":"evt_…"} as
// Hookgate does and forwards with webhook-id deliveryKey(id, ""), so that
// the bench's loader and receiver measure it as they measure Hookgate.
type Relay struct {
	target string
	client *http.Client
	log    *slog.Logger
	next   atomic.Uint64 // the last event ID: unique for the relay's life, all a run needs
	wg     sync.WaitGroup
}

// NewRelay returns a relay to target, which must be an http URL on a
// loopback IP (the bench's receiver), keeping up to conns idle connections
// to it.
func NewRelay(target string, conns int, log *slog.Logger) (*Relay, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("--target: %w", err)
	}
	if ip := net.ParseIP(u.Hostname()); u.Scheme != "http" || ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("--target %q: want http:// and a loopback IP; the relay only forwards to the bench's receiver", target)
	}
	conns = max(conns, 1)
	client := &http.Client{Timeout: relayTimeout, Transport: &http.Transport{
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute,
	}}
	return &Relay{target: target, client: client, log: log}, nil
}

// ServeHTTP accepts one event: it reads the body, answers 202 with the
// event's ID and forwards the body. The answer is buffered until the
// handler returns, so a forward may arrive first; the bench counts that
// latency as 0, as it does for Hookgate.
func (r *Relay) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		http.Error(rw, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(rw, req.Body, relayMaxBody))
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	id := strconv.FormatUint(r.next.Add(1), 10)
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(rw, `{"id":"evt_`+id+`"}`)
	r.wg.Add(1)
	go r.forward(id, req.Header.Get("Content-Type"), body)
}

// forward posts one event's body to the target; a failure is logged, and
// the bench counts the event lost.
func (r *Relay) forward(id, contentType string, body []byte) {
	defer r.wg.Done()
	req, err := http.NewRequest(http.MethodPost, r.target, bytes.NewReader(body))
	if err != nil {
		r.log.Error("relay: forward", "id", id, "err", err)
		return
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("webhook-id", deliveryKey(id, ""))
	res, err := r.client.Do(req)
	if err != nil {
		r.log.Error("relay: forward", "id", id, "err", err)
		return
	}
	_, _ = io.Copy(io.Discard, res.Body) // read to the end, to keep the connection
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		r.log.Error("relay: forward", "id", id, "status", res.StatusCode)
	}
}

// Wait waits for the forwards in flight.
func (r *Relay) Wait() { r.wg.Wait() }
