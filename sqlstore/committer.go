package sqlstore

import (
	"context"
	"errors"
	"sync"
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
	out       []*hookgate.Event
	// outcomes are attempt outcomes to record at now.
	outcomes []hookgate.AttemptOutcome
	now      time.Time
	err      error
	done     chan struct{}
}

// size is the number of rows the request asks to write, roughly.
func (r *ingestReq) size() int { return len(r.in) + len(r.outcomes) }

// committer group-commits events: concurrent CreateEvents calls queue their
// inputs, and each worker writes whatever is queued in one transaction. Under
// load this turns many small commits into few large ones; alone, a request
// commits at once. On SQLite the dispatcher's outcomes join the same queue,
// so that accepting events and recording attempts share commits: SQLite has
// one writer, and a commit costs more than the rows in it.
type committer struct {
	s       *Store
	queue   chan *ingestReq
	mu      sync.RWMutex // held for reading while sending to queue
	closed  bool
	workers sync.WaitGroup
}

func newCommitter(s *Store, workers int) *committer {
	c := &committer{s: s, queue: make(chan *ingestReq, 4096)}
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
	select {
	case c.queue <- r:
		c.mu.RUnlock()
	case <-ctx.Done():
		c.mu.RUnlock()
		return ctx.Err()
	}
	// Once queued, the events will be committed or fail as a whole; wait for
	// the answer even if the client leaves, so the outcome is never unknown
	// to us.
	<-r.done
	return r.err
}

// close stops taking events and waits until every queued one is committed.
func (c *committer) close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.queue)
	}
	c.mu.Unlock()
	c.workers.Wait()
}

func (c *committer) run() {
	defer c.workers.Done()
	batch := make([]*ingestReq, 0, 256)
	for first := range c.queue {
		batch = append(batch[:0], first)
		n := first.size()
	fill:
		for n < maxCommitEvents {
			select {
			case r, ok := <-c.queue:
				if !ok {
					break fill
				}
				batch = append(batch, r)
				n += r.size()
			default:
				break fill
			}
		}
		c.commit(batch)
	}
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
