package sqlstore

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookgate/hookgate"
)

// maxCommitEvents bounds the events written in one group commit, so that one
// transaction stays short.
const maxCommitEvents = 2000

// commitTimeout bounds one group commit; it is not tied to any one request,
// since a batch serves many.
const commitTimeout = 30 * time.Second

// ErrClosed is returned for events sent after Close.
var ErrClosed = &hookgate.Error{Code: hookgate.EUnavailable, Message: "the server is shutting down"}

// ingestReq is one CreateEvents call waiting for its group commit, or, on
// SQLite, one RecordAttempts call (outcomes set, no events).
type ingestReq struct {
	projectID string
	in        []hookgate.EventInput
	// hooks are the project's subscribers as CreateEvents read them
	// (hooksRead), for the commit to match in's events against.
	hooks     []subscriber
	hooksRead bool
	// pre, when set, matched in's events to their webhooks, filters and
	// all, and made their IDs.
	pre *prefiltered
	out []*hookgate.Event
	// outcomes are attempt outcomes to record at now.
	outcomes []hookgate.AttemptOutcome
	now      time.Time
	// at is when an event request was queued, for the committer's
	// gathering.
	at   time.Time
	err  error
	done chan struct{}
}

// size is the number of rows the request asks to write, roughly.
func (r *ingestReq) size() int { return len(r.in) + len(r.outcomes) }

// committer group-commits events: concurrent CreateEvents calls queue their
// inputs, and each worker writes whatever is queued in one transaction. Under
// load this turns many small commits into few large ones; alone, a request
// commits at once. On SQLite the dispatcher's outcomes join the commits too,
// so that accepting events and recording attempts share them: SQLite has
// one writer, and a commit costs more than the rows in it. Outcomes have a
// queue of their own and go into the very next commit, ahead of queued
// events: a request sent but not recorded is one a crash sends twice.
type committer struct {
	s       *Store
	queue   chan *ingestReq
	records chan *ingestReq
	// gather, when positive, lets a small commit wait up to that long
	// after its first request for others (see gatherer); SQLite only.
	gather  time.Duration
	mu      sync.RWMutex // held for reading while sending to the queues
	closed  bool
	workers sync.WaitGroup
	// queued counts the events waiting for their commit; committed those
	// committed since the store opened (for serve's drain log).
	queued, committed atomic.Int64
}

func newCommitter(s *Store, workers int, gather time.Duration) *committer {
	c := &committer{s: s, queue: make(chan *ingestReq, 4096), records: make(chan *ingestReq, 64), gather: gather}
	for range workers {
		c.workers.Add(1)
		go c.run()
	}
	return c
}

func (c *committer) submit(ctx context.Context, r *ingestReq) error {
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return ErrClosed
	}
	q := c.queue
	if r.outcomes != nil {
		q = c.records
	}
	if r.outcomes == nil {
		c.queued.Add(int64(len(r.in)))
		if c.gather > 0 {
			r.at = time.Now()
		}
	}
	select {
	case q <- r:
		c.mu.RUnlock()
	case <-ctx.Done():
		c.mu.RUnlock()
		if r.outcomes == nil {
			c.queued.Add(-int64(len(r.in)))
		}
		return ctx.Err()
	}
	// Once queued, the events will be committed or fail as a whole; wait for
	// the answer even if the client leaves, so the outcome is never unknown
	// to us.
	<-r.done
	return r.err
}

// isClosed reports whether close was called: submit answers ErrClosed.
func (c *committer) isClosed() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.closed
}

// close stops taking events and waits until every queued one is committed.
func (c *committer) close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.queue)
		close(c.records)
	}
	c.mu.Unlock()
	c.workers.Wait()
}

func (c *committer) run() {
	defer c.workers.Done()
	batch := make([]*ingestReq, 0, 256)
	queue, records := c.queue, c.records
	g := gatherer{window: c.gather}
	var timer *time.Timer
	for queue != nil || records != nil {
		var first *ingestReq
		select {
		case r, ok := <-records:
			if !ok {
				records = nil
				continue
			}
			first = r
		case r, ok := <-queue:
			if !ok {
				queue = nil
				continue
			}
			first = r
		}
		batch = append(batch[:0], first)
		n := first.size()
		batch, n = take(&records, batch, n, math.MaxInt) // every outcome waiting
		batch, n = take(&queue, batch, n, maxCommitEvents)
		if until, ok := g.wait(batch); ok {
			if timer == nil {
				timer = time.NewTimer(time.Until(until))
			} else {
				timer.Reset(time.Until(until))
			}
			before := len(batch)
			batch, _ = gatherUntil(timer, &queue, &records, batch, n, g.want)
			g.gathered(len(batch) - before)
		}
		g.saw(batch)
		c.commit(batch)
	}
	if timer != nil {
		timer.Stop()
	}
}

// gatherer decides when a small commit waits for company. A commit costs
// much more than the rows in it (on SQLite with synchronous=full, an fsync
// and a WAL frame write per page), and under moderate load, a few events a
// millisecond, each event would otherwise pay one of its own. So when the
// events' requests have recently come closer together than window, a
// commit of fewer than gatherBatch requests waits until window after its
// first request, or until as many more requests as the pace promises
// have come. Waits that gather nothing (a producer that sends one request
// at a time and waits for each answer) turn the waiting off for a while.
// Outcomes never wait: they end the wait, since a request sent but not
// recorded is one a crash sends twice.
type gatherer struct {
	window time.Duration
	// interval is the moving average of the time between event requests;
	// last is the latest request's time.
	interval time.Duration
	last     time.Time
	// want is how many requests the wait under way expects.
	want int
	// fruitless counts the waits in a row that gathered nothing; off is
	// when waiting may start again after gatherFruitless of them.
	fruitless int
	off       time.Time
}

const (
	// gatherBatch is the number of requests from which a commit never
	// waits: it is already shared.
	gatherBatch = 8
	// gatherFruitless waits in a row that gathered nothing turn waiting
	// off for gatherOff.
	gatherFruitless = 3
	gatherOff       = time.Second
)

// wait says whether batch should wait for company, and until when.
func (g *gatherer) wait(batch []*ingestReq) (time.Time, bool) {
	if g.window <= 0 || len(batch) >= gatherBatch || g.interval <= 0 || g.interval > g.window {
		return time.Time{}, false
	}
	var first time.Time
	for _, r := range batch {
		if r.outcomes != nil {
			return time.Time{}, false
		}
		if first.IsZero() || r.at.Before(first) {
			first = r.at
		}
	}
	now := time.Now()
	if now.Before(g.off) {
		return time.Time{}, false
	}
	until := first.Add(g.window)
	if !until.After(now) {
		return time.Time{}, false
	}
	g.want = len(batch) + int(g.window/g.interval)
	return until, true
}

// gathered learns from a wait that brought n requests.
func (g *gatherer) gathered(n int) {
	if n > 0 {
		g.fruitless = 0
		return
	}
	g.fruitless++
	if g.fruitless >= gatherFruitless {
		g.fruitless = 0
		g.off = time.Now().Add(gatherOff)
	}
}

// saw updates the pace of event requests with those in batch.
func (g *gatherer) saw(batch []*ingestReq) {
	if g.window <= 0 {
		return
	}
	for _, r := range batch {
		if r.outcomes != nil || r.at.IsZero() {
			continue
		}
		if !g.last.IsZero() {
			d := max(r.at.Sub(g.last), 0)
			if g.interval == 0 {
				g.interval = d
			} else {
				g.interval += (d - g.interval) / 8
			}
		}
		if r.at.After(g.last) {
			g.last = r.at
		}
	}
}

// gatherUntil adds to batch the requests that come before timer fires,
// until it holds want requests or maxCommitEvents rows, or an outcome
// comes (outcomes and what is queued after them are taken at once).
func gatherUntil(timer *time.Timer, queue, records *chan *ingestReq, batch []*ingestReq, n, want int) ([]*ingestReq, int) {
	for len(batch) < want && n < maxCommitEvents && *queue != nil {
		select {
		case r, ok := <-*queue:
			if !ok {
				*queue = nil
				break
			}
			batch = append(batch, r)
			n += r.size()
			continue
		case r, ok := <-*records:
			if !ok {
				*records = nil
				break
			}
			batch = append(batch, r)
			n += r.size()
			batch, n = take(records, batch, n, math.MaxInt)
			batch, n = take(queue, batch, n, maxCommitEvents)
		case <-timer.C:
			return batch, n
		}
		break
	}
	if !timer.Stop() {
		select {
		case <-timer.C:
		default:
		}
	}
	return batch, n
}

// take appends to batch the requests *ch holds now, while the batch asks for
// fewer than limit rows (it asks for n so far); a closed *ch becomes nil.
func take(ch *chan *ingestReq, batch []*ingestReq, n, limit int) ([]*ingestReq, int) {
	for *ch != nil && n < limit {
		select {
		case r, ok := <-*ch:
			if !ok {
				*ch = nil
				return batch, n
			}
			batch = append(batch, r)
			n += r.size()
		default:
			return batch, n
		}
	}
	return batch, n
}

// commit writes a batch; when the shared transaction fails, each request is
// tried alone so that one bad request cannot fail the others.
func (c *committer) commit(batch []*ingestReq) {
	err := c.s.commitEvents(batch)
	if err != nil && len(batch) > 1 {
		for _, r := range batch {
			r.err = c.s.commitEvents([]*ingestReq{r})
		}
	} else {
		for _, r := range batch {
			r.err = err
		}
	}
	for _, r := range batch {
		if r.outcomes == nil {
			c.queued.Add(-int64(len(r.in)))
			if r.err == nil {
				c.committed.Add(int64(len(r.in)))
			}
		}
		if r.err != nil {
			r.out = nil
			var he *hookgate.Error
			switch {
			case errors.As(r.err, &he):
			case r.outcomes != nil:
				c.s.log.Error("record attempts", "outcomes", len(r.outcomes), "err", r.err)
			default:
				c.s.log.Error("commit events", "project", r.projectID, "events", len(r.in), "err", r.err)
			}
		}
		close(r.done)
	}
}
