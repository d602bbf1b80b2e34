package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/expressions"
)

// prefiltered is the work CreateEvents does for a project whose webhooks
// have filters, before it queues its events for the committer: the filters
// run in the caller's goroutine, never in the committer's, so that one
// tenant's expressions cannot stall the commits of another's events (a
// filter's cost is bounded, but a committer worker is shared by every
// project). Each input gets its event ID and time here, which the filters
// see as id and timestamp, and its subscribers.
type prefiltered struct {
	ids []string
	at  time.Time
	// matches are the subscribers each input is delivered to, in the
	// order of the project's subscribers.
	matches [][]*subscriber
	// rejected and failed name, per input, the webhooks its filter
	// answered false for, and those it failed on.
	rejected, failed [][]string
}

// hasFilters reports whether any of hooks has a filter.
func hasFilters(hooks []subscriber) bool {
	for i := range hooks {
		if hooks[i].filterSrc != "" {
			return true
		}
	}
	return false
}

// runFilters matches the inputs of a project against its subscribers, their
// filters included. A filter that fails on an event (ErrNoMatch, or
// ErrCostLimit) keeps the event from its webhook, as one that answers
// false does, and is counted apart; the ingest goes on. Only the context's
// end fails it.
func (s *Store) runFilters(ctx context.Context, hooks []subscriber, in []hookgate.EventInput) (*prefiltered, error) {
	now := s.now().UTC()
	p := &prefiltered{
		ids: make([]string, len(in)), at: now.Truncate(time.Microsecond),
		matches: make([][]*subscriber, len(in)), rejected: make([][]string, len(in)), failed: make([][]string, len(in)),
	}
	for i, ev := range in {
		p.ids[i] = hookgate.NewID(hookgate.PrefixEvent, now)
		var decoded *expressions.Input
		var decodeErr error
		// A filter that does not read metadata answers the same for every
		// webhook that has it: it runs once per event.
		var seen map[*expressions.Filter]verdict
		for hi := range hooks {
			h := &hooks[hi]
			if !hookgate.MatchesFilters(h.events, ev.Type) {
				continue
			}
			if h.filterSrc == "" {
				p.matches[i] = append(p.matches[i], h)
				continue
			}
			if decoded == nil && decodeErr == nil {
				decoded, decodeErr = expressions.NewInput(expressions.Event{ID: p.ids[i], Type: ev.Type, Timestamp: p.at, Data: ev.Data})
			}
			v, memo := seen[h.filter]
			if !memo {
				v.ok, v.err = h.match(ctx, decoded, decodeErr)
				if h.filter != nil && !h.filter.ReadsMetadata() {
					if seen == nil {
						seen = map[*expressions.Filter]verdict{}
					}
					seen[h.filter] = v
				}
			}
			ok, err := v.ok, v.err
			switch {
			case err != nil && ctx.Err() != nil:
				return nil, ctx.Err()
			case err != nil:
				p.failed[i] = append(p.failed[i], h.id)
			case ok:
				p.matches[i] = append(p.matches[i], h)
			default:
				p.rejected[i] = append(p.rejected[i], h.id)
			}
		}
	}
	return p, nil
}

// verdict is a filter's answer on an event.
type verdict struct {
	ok  bool
	err error
}

// match runs h's filter on an event decoded for it (or that could not be).
func (h *subscriber) match(ctx context.Context, in *expressions.Input, decodeErr error) (bool, error) {
	if h.filterErr != nil {
		return false, h.filterErr
	}
	if decodeErr != nil {
		return false, decodeErr
	}
	return h.filter.MatchInput(ctx, in.WithMetadata(h.metadata))
}

// compileFilter sets h's filter from its source. A stored filter that no
// longer compiles (one registered before a limit was lowered) fails on
// every event, which is counted, rather than failing the ingest of the
// project's other webhooks.
func (h *subscriber) compileFilter() {
	if h.filterSrc == "" {
		return
	}
	f, err := expressions.CachedFilter(h.filterSrc)
	if err != nil {
		h.filterErr = fmt.Errorf("%w: the stored filter does not compile: %w", expressions.ErrNoMatch, err)
		return
	}
	h.filter = f
}

// filterKey names one webhook's counters in one minute.
type filterKey struct {
	project, webhook string
	minute           int64 // micros
}

// filterTally counts the events filters kept from webhooks. The counts of a
// commit are added once it is done, in memory, and written to filter_counts
// every filterFlushEvery by a goroutine started with the first count (and
// at Close, and before a stats read): counting in the commit itself would
// make the commits of every event of a webhook wait on one counter row.
// A crash loses at most the counts of the last interval, never an event.
type filterTally struct {
	mu      sync.Mutex
	counts  map[filterKey][2]int64 // rejected, failed
	start   sync.Once
	stop    chan struct{}
	stopped chan struct{}
}

// filterFlushEvery is how often counts are written.
const filterFlushEvery = time.Second

// countFilters adds the counts of the events a commit created.
func (s *Store) countFilters(add map[filterKey][2]int64) {
	t := &s.filterCounts
	t.mu.Lock()
	if t.counts == nil {
		t.counts = map[filterKey][2]int64{}
	}
	for k, v := range add {
		c := t.counts[k]
		t.counts[k] = [2]int64{c[0] + v[0], c[1] + v[1]}
	}
	t.mu.Unlock()
	t.start.Do(func() {
		t.stop, t.stopped = make(chan struct{}), make(chan struct{})
		go s.flushFiltersEvery(filterFlushEvery)
	})
}

func (s *Store) flushFiltersEvery(d time.Duration) {
	t := &s.filterCounts
	defer close(t.stopped)
	tick := time.NewTicker(d)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
			ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
			if err := s.flushFilters(ctx); err != nil {
				s.log.Warn("filter counts: writing them failed; kept for the next try", "err", err)
			}
			cancel()
		}
	}
}

// stopFilterCounts stops the writer and writes what is left.
func (s *Store) stopFilterCounts() {
	t := &s.filterCounts
	t.start.Do(func() {}) // none starts after this
	if t.stop != nil {
		close(t.stop)
		<-t.stopped
	}
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	if err := s.flushFilters(ctx); err != nil {
		s.log.Warn("filter counts: writing the last ones failed", "err", err)
	}
}

// flushFilters writes the counts held in memory, in one transaction, in
// the order of their keys (so that nodes writing the same rows lock them
// in the same order); on failure they are kept for the next try.
func (s *Store) flushFilters(ctx context.Context) error {
	t := &s.filterCounts
	t.mu.Lock()
	counts := t.counts
	t.counts = nil
	t.mu.Unlock()
	if len(counts) == 0 {
		return nil
	}
	keys := make([]filterKey, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b filterKey) int {
		return cmp.Or(strings.Compare(a.project, b.project), strings.Compare(a.webhook, b.webhook), cmp.Compare(a.minute, b.minute))
	})
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for _, k := range keys {
			c := counts[k]
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO filter_counts (project_id, webhook_id, minute, rejected, failed) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (project_id, webhook_id, minute) DO UPDATE SET rejected = filter_counts.rejected + excluded.rejected, failed = filter_counts.failed + excluded.failed`),
				k.project, k.webhook, k.minute, c[0], c[1]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.countFilters(counts)
	}
	return err
}

// filterCountsIn sums the events the filters of a project's webhooks (of one
// when webhookID is set) kept from them in [since, until), to the minute:
// a minute is counted when it overlaps the window. The counts this node
// holds in memory are written first.
func (s *Store) filterCountsIn(ctx context.Context, projectID, webhookID string, since, until time.Time) (rejected, failed int, err error) {
	if err := s.flushFilters(ctx); err != nil && !errors.Is(err, context.Canceled) {
		s.log.Warn("filter counts: writing them before a read failed", "err", err)
	}
	err = s.read.QueryRowContext(ctx, s.q(`SELECT COALESCE(SUM(rejected), 0), COALESCE(SUM(failed), 0) FROM filter_counts
		WHERE project_id = ? AND (? = '' OR webhook_id = ?) AND minute > ? AND minute < ?`),
		projectID, webhookID, webhookID, micros(since)-int64(time.Minute/time.Microsecond), micros(until)).Scan(&rejected, &failed)
	return rejected, failed, err
}

// minuteOf is the start of t's minute in micros.
func minuteOf(t time.Time) int64 { return micros(t.Truncate(time.Minute)) }

// filterPasses reports whether w's filter lets an event through: false when
// it answers false or fails on it, as at ingest.
func filterPasses(ctx context.Context, w *hookgate.Webhook, id, typ string, at time.Time, data json.RawMessage) bool {
	f, err := expressions.CachedFilter(w.Filter)
	if err != nil {
		return false
	}
	ok, err := f.Match(ctx, expressions.Event{ID: id, Type: typ, Timestamp: at, Data: data, Metadata: w.Metadata})
	return err == nil && ok
}
