package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/sqlstore"
)

// stopSignals turns SIGTERM and SIGINT into serve's stop: the first ends
// ctx, and serve drains; the second closes second, and serve cuts the
// drain short. After the second, reset gives the signals their default
// effect back, so that a third ends the process at once.
type stopSignals struct {
	ctx context.Context
	// first and next are the signals received, each set before ctx ends
	// or second closes; first is nil when the parent context ended.
	first, next os.Signal
	second      chan struct{}
	done        chan struct{}
	closeOnce   sync.Once
}

func watchStops(parent context.Context, sigs <-chan os.Signal, reset func()) *stopSignals {
	ctx, cancel := context.WithCancel(parent)
	s := &stopSignals{ctx: ctx, second: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer cancel()
		select {
		case sig := <-sigs:
			s.first = sig
			cancel()
		case <-ctx.Done():
		case <-s.done:
			return
		}
		select {
		case sig := <-sigs:
			s.next = sig
			reset()
			close(s.second)
		case <-s.done:
		}
	}()
	return s
}

// close stops watching.
func (s *stopSignals) close() { s.closeOnce.Do(func() { close(s.done) }) }

// signalName names a received signal for the log ("" for none).
func signalName(sig os.Signal) string {
	if sig == nil {
		return ""
	}
	return sig.String()
}

// inFlight counts the API requests being served.
type inFlight struct {
	h http.Handler
	n atomic.Int64
}

func (c *inFlight) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.n.Add(1)
	defer c.n.Add(-1)
	c.h.ServeHTTP(w, r)
}

// draining is what serve stops, in order.
type draining struct {
	log        *slog.Logger
	srv        *http.Server
	requests   *inFlight
	dispatcher *delivery.Dispatcher
	// stopDispatch ends the dispatcher's Run; dispatched is closed when
	// it returned.
	stopDispatch func()
	dispatched   <-chan struct{}
	store        *sqlstore.Store
	timeout      time.Duration
	// unready makes /readyz answer 503 (api.Server.Drain); delay is how
	// long the listener stays open after that (--drain-delay), so that
	// load balancers see it and stop sending new requests first.
	unready func()
	delay   time.Duration
}

// drain stops the server as the signals ask, logging what is in flight as
// the drain starts and what became of it when it ends: API requests get
// the drain timeout to finish, events they queued are committed, delivery
// requests in flight get the drain timeout to end and be recorded, and
// rows claimed but not sent go back to the queue. A second signal cuts it
// short: the API's connections are closed (a request cut so got no 202, so
// nothing accepted is lost) and the deliveries in flight are abandoned,
// their rows given back due at once (sent again, by this node's next run
// or another node). It returns the store's Close error.
func (d *draining) drain(stops *stopSignals) error {
	start := time.Now()
	sending, waiting := d.dispatcher.InFlight()
	queued, committedBefore := d.store.IngestCounts()
	d.log.Info("draining: no new requests; those in flight finish, accepted events are committed, deliveries in flight finish and are recorded; a second SIGTERM or Ctrl-C stops at once",
		"signal", signalName(stops.first), "timeout", d.timeout.String(), "requestsInFlight", d.requests.n.Load(),
		"deliveriesInFlight", sending, "deliveriesWaiting", waiting, "eventsQueued", queued)
	d.unready()
	d.waitDelay(stops)

	sctx, cancel := context.WithTimeout(context.Background(), d.timeout)
	defer cancel()
	var cut atomic.Bool
	var requestsCut int64
	drained := make(chan struct{})
	defer close(drained)
	go func() {
		select {
		case <-stops.second:
		case <-drained:
			return
		}
		cut.Store(true)
		sending, _ := d.dispatcher.InFlight()
		d.log.Warn("second signal: the drain is cut short; API requests in flight are closed unanswered, deliveries in flight are abandoned and given back to the queue, sent again at the next start; a third signal ends the process at once",
			"signal", signalName(stops.next), "requestsInFlight", d.requests.n.Load(), "deliveriesInFlight", sending)
		d.dispatcher.Abandon()
		cancel()
	}()
	if err := d.srv.Shutdown(sctx); err != nil {
		// The drain timeout ran out, or a second signal came: close what
		// is left.
		requestsCut = d.requests.n.Load()
		_ = d.srv.Close()
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			d.log.Error("stop the HTTP server", "err", err)
		}
	}
	// Deliveries claimed but not started go back to the queue; requests in
	// flight get the drain timeout to finish and are recorded, unless a
	// second signal abandons them.
	d.stopDispatch()
	select {
	case <-d.dispatched:
	case <-time.After(d.timeout + 10*time.Second):
		d.log.Error("the dispatcher did not stop in time; unrecorded deliveries are sent again after their lease")
	}
	err := d.store.Close()
	_, committedAfter := d.store.IngestCounts()
	r := d.dispatcher.StopReport()
	d.log.Info("stopped", "drainedIn", time.Since(start).Round(time.Millisecond).String(), "cutShort", cut.Load(),
		"requestsCut", requestsCut, "eventsCommitted", committedAfter-committedBefore,
		"deliveriesFinished", r.Finished, "deliveriesAbandoned", r.Abandoned,
		"leasesReleased", int64(r.GivenBack+r.Abandoned)+r.Left)
	return err
}

// waitDelay keeps serving, unready, for the drain delay, or until a second
// signal comes, which then cuts the drain short as well.
func (d *draining) waitDelay(stops *stopSignals) {
	if d.delay <= 0 {
		return
	}
	d.log.Info("draining: /readyz answers 503; requests are still served for --drain-delay, so that load balancers stop sending new ones first", "delay", d.delay.String())
	t := time.NewTimer(d.delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-stops.second:
	}
}
