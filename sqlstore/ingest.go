package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/expressions"
)

// CreateEvents accepts events through the group committer.
func (s *Store) CreateEvents(ctx context.Context, projectID string, in []hookgate.EventInput) ([]*hookgate.Event, error) {
	r := &ingestReq{projectID: projectID, in: in, done: make(chan struct{})}
	if len(in) > 0 && !s.ingest.isClosed() {
		hooks, err := s.cachedSubscribers(ctx, projectID)
		if err != nil {
			return nil, err
		}
		r.hooks, r.hooksRead = hooks, true
		if hasFilters(hooks) {
			if r.pre, err = s.runFilters(ctx, hooks, in); err != nil {
				return nil, err
			}
		}
	}
	if err := s.ingest.submit(ctx, r); err != nil {
		return nil, err
	}
	return r.out, nil
}

// subscriber is what ingest needs to know of an active webhook.
type subscriber struct {
	id string
	// idArg is id as a statement's argument, boxed once for all the rows
	// that name it.
	idArg  any
	events []string
	// ordered webhooks (FIFO) take their deliveries' keys at orderingKey.
	ordered     bool
	orderingKey string
	// filterSrc is the webhook's filter ("" for none), compiled as filter
	// (or failed to, filterErr); metadata is what it sees as metadata.
	filterSrc string
	filter    *expressions.Filter
	filterErr error
	metadata  map[string]string
}

// deliveryWidth is the number of values in a row of ingestDeliveryCols.
var deliveryWidth = strings.Count(ingestDeliveryCols, ",") + 1

type idemKey struct{ project, key string }

// claimed is the event an idempotency key names, and the digest of the
// body that created it.
type claimed struct {
	e    *hookgate.Event
	hash string
}

// sameBody refuses the reuse of key k for another body than the one the
// stored digest is of. Either digest empty (a platform's post, a key
// claimed before digests were kept) compares equal, and so does a stored
// digest equal to in's LegacyBodyHash (a key claimed before digests were
// of canonical JSON).
func sameBody(k idemKey, stored string, in hookgate.EventInput) error {
	if stored == "" || in.BodyHash == "" || stored == in.BodyHash || (in.LegacyBodyHash != "" && stored == in.LegacyBodyHash) {
		return nil
	}
	return &hookgate.Error{Code: hookgate.EIdempotencyConflict, Param: "Idempotency-Key", Value: k.key,
		Message: "this Idempotency-Key was used within 24 hours for a different event; use a new key for a new event"}
}

// commitEvents writes the events of reqs, their deliveries and idempotency
// keys, and the outcomes of reqs that carry outcomes, in one transaction.
func (s *Store) commitEvents(reqs []*ingestReq) error {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	if err := s.prepareInserts(ctx); err != nil {
		return err
	}
	// Who gets each event is worked out before the write transaction, on a
	// reader: the single SQLite writer is held only for the writes, however
	// many webhooks and filters a project has. A webhook deactivated or
	// deleted meanwhile gets a delivery the dispatcher pauses or cancels.
	matches := make([][][]*subscriber, len(reqs))
	subs := map[string][]subscriber{}
	hasEvents, ordered := false, false
	for ri, r := range reqs {
		if len(r.in) == 0 {
			continue
		}
		hasEvents = true
		if r.pre != nil {
			// Matched by CreateEvents, filters and all.
			matches[ri] = r.pre.matches
			for _, m := range r.pre.matches {
				for _, h := range m {
					ordered = ordered || h.ordered
				}
			}
			continue
		}
		hooks, ok := subs[r.projectID]
		if !ok {
			// Read by CreateEvents already: once per request is enough
			// (on PostgreSQL a node not listening reads the database).
			hooks = r.hooks
			if !r.hooksRead {
				var err error
				if hooks, err = s.cachedSubscribers(ctx, r.projectID); err != nil {
					return err
				}
			}
			subs[r.projectID] = hooks
		}
		matches[ri] = make([][]*subscriber, len(r.in))
		for i, in := range r.in {
			for hi := range hooks {
				if h := &hooks[hi]; hookgate.MatchesFilters(h.events, in.Type) {
					matches[ri][i] = append(matches[ri][i], h)
					ordered = ordered || h.ordered
				}
			}
		}
	}
	// On PostgreSQL a batch without idempotency keys is one statement (see
	// unnest.go); otherwise a transaction, begun before the keys are
	// claimed.
	oneStatement := s.engine == EnginePostgres && !ordered
	for _, r := range reqs {
		for _, in := range r.in {
			if in.IdempotencyKey != "" {
				oneStatement = false
			}
		}
	}
	var tx *sql.Tx
	if !oneStatement {
		var err error
		if tx, err = s.write.BeginTx(ctx, nil); err != nil {
			return err
		}
		defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	}

	now := s.now().UTC()
	nowUS := micros(now)
	// Deliveries are born leased to the adopter's node, when it has room.
	var adopter hookgate.Adopter
	var node string
	var until time.Time
	if box := s.adopter.Load(); box != nil && (hasEvents || finishesHeads(reqs)) {
		if n, lease, ok := box.a.AdoptLease(); ok {
			adopter, node, until = box.a, n, now.Add(lease).Truncate(time.Microsecond)
		}
	}
	leaseUS := int64(0)
	if adopter != nil {
		leaseUS = micros(until)
	}
	seen := map[idemKey]claimed{}
	var events, deliveries [][]any
	var born []*hookgate.Delivery
	var bornEvents map[[2]string]*hookgate.Event
	bornBy := map[string]int{}         // adopted in this transaction, by webhook
	unplaced := 0                      // due now and not adopted: for a claim
	var lines []orderKey               // the keys ordered rows were put in line for
	var inLine map[orderKey]bool       // made with the first ordered row
	var counted map[filterKey][2]int64 // the filters' counts of the events created
	// deferred are the rows born due later, by webhook (Adopter.Deferred).
	var deferred map[string][]hookgate.DueRow
	// The arguments the rows share are boxed once: a value put in an
	// interface is a heap allocation of its own, per row and column
	// otherwise.
	nowArg, leaseArg, nodeArg := any(nowUS), any(leaseUS), any(node)
	rowCount := 0
	for ri := range reqs {
		for _, m := range matches[ri] {
			rowCount += len(m)
		}
	}
	// One backing array for every delivery row's arguments.
	cells := make([]any, 0, rowCount*deliveryWidth)
	row := func(vals ...any) []any {
		start := len(cells)
		cells = append(cells, vals...)
		return cells[start:len(cells):len(cells)]
	}
	for ri, r := range reqs {
		r.out = make([]*hookgate.Event, len(r.in))
		projectArg := any(r.projectID)
		for i, in := range r.in {
			id, createdAt := hookgate.NewID(hookgate.PrefixEvent, now), now.Truncate(time.Microsecond)
			if r.pre != nil {
				id, createdAt = r.pre.ids[i], r.pre.at
			}
			if in.IdempotencyKey != "" {
				k := idemKey{r.projectID, in.IdempotencyKey}
				if c, ok := seen[k]; ok {
					if err := sameBody(k, c.hash, in); err != nil {
						return err
					}
					r.out[i] = replayOf(c.e)
					continue
				}
				e, hash, err := s.claimIdempotencyKey(ctx, tx, k, id, in.BodyHash, nowUS)
				if err != nil {
					return err
				}
				if e != nil {
					if err := sameBody(k, hash, in); err != nil {
						return err
					}
					seen[k] = claimed{e, hash}
					r.out[i] = replayOf(e)
					continue
				}
			}
			e := &hookgate.Event{
				ID: id, ProjectID: r.projectID, Type: in.Type,
				Data: in.Data, IdempotencyKey: in.IdempotencyKey, Trace: eventTrace(in.Trace), CreatedAt: createdAt,
			}
			if r.pre != nil && len(r.pre.rejected[i])+len(r.pre.failed[i]) > 0 {
				if counted == nil {
					counted = map[filterKey][2]int64{}
				}
				minute := minuteOf(createdAt)
				for _, hid := range r.pre.rejected[i] {
					k := filterKey{r.projectID, hid, minute}
					c := counted[k]
					counted[k] = [2]int64{c[0] + 1, c[1]}
				}
				for _, hid := range r.pre.failed[i] {
					k := filterKey{r.projectID, hid, minute}
					c := counted[k]
					counted[k] = [2]int64{c[0], c[1] + 1}
				}
				e.Filtered, e.FilterFailed = len(r.pre.rejected[i]), len(r.pre.failed[i])
			}
			placed, adoptedAny := adopter != nil, false
			eventArg, typeArg := any(e.ID), any(in.Type)
			for _, h := range matches[ri][i] {
				hid, hidArg := h.id, h.idArg
				e.Deliveries++
				id := hookgate.DeliveryID(e.ID, hid)
				if h.ordered {
					// In line behind its key's head; the head is made due
					// once the rows are in (promoteKeys), for a claim.
					k := orderKey{hid, hookgate.OrderingKeyOf(h.orderingKey, in.Type, e.CreatedAt, in.Data)}
					if inLine == nil {
						inLine = map[orderKey]bool{}
					}
					if !inLine[k] {
						inLine[k] = true
						lines = append(lines, k)
					}
					deliveries = append(deliveries, row(id, projectArg, eventArg, hidArg, typeArg,
						hookgate.DeliveryPending, 0, blockedUS, int64(0), 0, "", nowArg, nowArg, "", k.key))
					placed = false
					continue
				}
				adopt, due, lease, leaseNode := false, nowArg, any(int64(0)), any("")
				later := false
				if adopter != nil {
					var at time.Time
					if adopt, at = adopter.AdoptDue(hid, bornBy[hid], now); adopt {
						lease, leaseNode = leaseArg, nodeArg
					} else if at.After(now) {
						dueUS := micros(at) // the adopter has no room for it yet
						due, later = dueUS, dueUS != nowUS
						if later {
							if deferred == nil {
								deferred = map[string][]hookgate.DueRow{}
							}
							deferred[hid] = append(deferred[hid], hookgate.DueRow{ProjectID: r.projectID, ID: id, Due: time.UnixMicro(dueUS)})
						}
					} else {
						placed = false
					}
				}
				deliveries = append(deliveries, row(id, projectArg, eventArg, hidArg, typeArg,
					hookgate.DeliveryPending, 0, due, lease, 0, "", nowArg, nowArg, leaseNode, nil))
				if !adopt && !later {
					unplaced++
				}
				if adopt {
					adoptedAny = true
					bornBy[hid]++
					born = append(born, &hookgate.Delivery{ID: id, ProjectID: r.projectID, EventID: e.ID, WebhookID: hid, EventType: in.Type,
						Kind: hookgate.KindEvent, Status: hookgate.DeliveryPending, NextAttemptAt: e.CreatedAt, CreatedAt: e.CreatedAt, UpdatedAt: e.CreatedAt})
				}
			}
			// Adopted: no claim is needed now; every delivery is with this
			// node, or due later.
			e.Adopted = placed && e.Deliveries > 0
			if adoptedAny {
				if bornEvents == nil {
					bornEvents = map[[2]string]*hookgate.Event{}
				}
				bornEvents[[2]string{r.projectID, e.ID}] = e
			}
			events = append(events, []any{eventArg, projectArg, typeArg, string(e.Data), e.IdempotencyKey, e.Deliveries, micros(createdAt), e.Trace.Traceparent(), e.Trace.State})
			if in.IdempotencyKey != "" {
				seen[idemKey{r.projectID, in.IdempotencyKey}] = claimed{e, in.BodyHash}
			}
			r.out[i] = e
		}
	}
	if prefilteredAny(reqs) {
		// The IDs of prefiltered events were made before they queued, so
		// that their filters could see them: in ID order, the rows go in
		// at the end of the tables' B-trees, as those made here do,
		// instead of splitting pages in the middle.
		byID := func(a, b []any) int { return strings.Compare(a[0].(string), b[0].(string)) }
		slices.SortStableFunc(events, byID)
		slices.SortStableFunc(deliveries, byID)
	}
	// Deliveries not adopted here are for whichever node claims first: on
	// PostgreSQL every node's Listen hears of them at the commit.
	notify := (unplaced > 0 || len(lines) > 0) && s.engine == EnginePostgres
	if oneStatement {
		var p pgStatement
		p.insert("events", eventCols, events)
		p.insert("deliveries", ingestDeliveryCols, deliveries)
		final := "SELECT 1"
		if notify {
			final = "SELECT pg_notify('" + s.wakeCh + "', '')"
		}
		if _, err := s.write.ExecContext(ctx, p.sql(final), p.args...); err != nil {
			return err
		}
	} else {
		if err := s.insertRows(ctx, tx, "events", eventCols, events); err != nil {
			return err
		}
		// The keys' locks before their rows: a head's outcome recorded
		// meanwhile on another node either committed before this
		// promotion, which sees it, or promotes these rows itself.
		if err := s.lockKeys(ctx, tx, lines); err != nil {
			return err
		}
		if err := s.insertRows(ctx, tx, "deliveries", ingestDeliveryCols, deliveries); err != nil {
			return err
		}
		// A key's head made due goes to this node with its new rows.
		var h *handoff
		if adopter != nil {
			h = &handoff{node, until}
		}
		heads, err := s.promoteKeys(ctx, tx, now, lines, h)
		if err != nil {
			return err
		}
		if h != nil {
			born = append(born, heads...)
		}
		if notify {
			if _, err := tx.ExecContext(ctx, "SELECT pg_notify('"+s.wakeCh+"', '')"); err != nil {
				return err
			}
		}
		for _, r := range reqs {
			if r.outcomes != nil {
				var h *handoff
				if adopter != nil {
					h = &handoff{node, until}
				}
				heads, err := s.recordTx(ctx, tx, r.now, r.outcomes, h)
				if err != nil {
					return err
				}
				if h != nil {
					born = append(born, heads...)
				}
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	if len(born) > 0 {
		adopter.Adopt(born, bornEvents, until)
	}
	if len(deferred) > 0 {
		adopter.Deferred(deferred)
	}
	if counted != nil {
		s.countFilters(counted)
	}
	return nil
}

// prefilteredAny reports whether any of reqs was prefiltered.
func prefilteredAny(reqs []*ingestReq) bool {
	for _, r := range reqs {
		if r.pre != nil {
			return true
		}
	}
	return false
}

func replayOf(e *hookgate.Event) *hookgate.Event {
	c := *e
	c.Replayed = true
	return &c
}

func (s *Store) subscribers(ctx context.Context, db *sql.DB, projectID string) ([]subscriber, error) {
	st, err := s.prepare(ctx, db, `SELECT id, events, ordering, ordering_key, cel_filter, metadata FROM webhooks WHERE project_id = ? AND status = ? AND trigger_only = 0`)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, projectID, hookgate.StatusActive)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []subscriber
	for rows.Next() {
		var sub subscriber
		var events, ordering, metadata string
		if err := rows.Scan(&sub.id, &events, &ordering, &sub.orderingKey, &sub.filterSrc, &metadata); err != nil {
			return nil, err
		}
		sub.ordered = ordering == hookgate.OrderingFIFO
		sub.idArg = sub.id
		if err := json.Unmarshal([]byte(events), &sub.events); err != nil {
			return nil, err
		}
		if sub.filterSrc != "" {
			if metadata != "" && metadata != "null" {
				if err := json.Unmarshal([]byte(metadata), &sub.metadata); err != nil {
					return nil, err
				}
			}
			sub.compileFilter()
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// claimKeySQL claims an idempotency key unless an unexpired claim exists.
const claimKeySQL = `INSERT INTO idempotency_keys (project_id, key, event_id, expires_at, body_hash) VALUES (?, ?, ?, ?, ?)
	ON CONFLICT (project_id, key) DO UPDATE SET event_id = excluded.event_id, expires_at = excluded.expires_at, body_hash = excluded.body_hash
	WHERE idempotency_keys.expires_at <= ?`

// claimIdempotencyKey makes key k name the new event eventID, unless an
// unexpired claim exists: then it returns the event that claim names. On
// PostgreSQL a concurrent claim of the same key by an uncommitted
// transaction makes this wait for it, so two nodes never both create an
// event for one key.
func (s *Store) claimIdempotencyKey(ctx context.Context, tx *sql.Tx, k idemKey, eventID, hash string, nowUS int64) (*hookgate.Event, string, error) {
	st, err := s.hotTx(ctx, tx, claimKeySQL)
	if err != nil {
		return nil, "", err
	}
	res, err := st.ExecContext(ctx, k.project, k.key, eventID, nowUS+hookgate.IdempotencyWindow.Microseconds(), hash, nowUS)
	if err != nil {
		return nil, "", err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return nil, "", err
	}
	var stored string
	if err := tx.QueryRowContext(ctx, s.q(`SELECT body_hash FROM idempotency_keys WHERE project_id = ? AND key = ?`), k.project, k.key).Scan(&stored); err != nil {
		return nil, "", err
	}
	e, err := scanEvent(tx.QueryRowContext(ctx, s.q(`SELECT `+eventCols+` FROM event_rows WHERE project_id = ? AND id = (SELECT event_id FROM idempotency_keys WHERE project_id = ? AND key = ?)`), k.project, k.project, k.key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", fmt.Errorf("idempotency key %q names a missing event", k.key)
	}
	return e, stored, err
}

// eventTrace is the trace an event keeps: the accepting span's, or a
// span of a new trace when the input names none.
func eventTrace(t hookgate.TraceContext) hookgate.TraceContext {
	if t.SpanID == [8]byte{} {
		return hookgate.ChildOf(t)
	}
	return t
}

// CreateDirectEvent accepts an event for one webhook only, whatever its
// filter: the event and its one delivery are committed together. The
// webhook must exist (ENotFound) and be active (EConflict).
func (s *Store) CreateDirectEvent(ctx context.Context, projectID, webhookID string, in hookgate.EventInput) (*hookgate.Event, *hookgate.Delivery, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	e := &hookgate.Event{ID: hookgate.NewID(hookgate.PrefixEvent, now), ProjectID: projectID, Type: in.Type, Data: in.Data, Deliveries: 1, Trace: eventTrace(in.Trace), CreatedAt: now}
	d := &hookgate.Delivery{ID: hookgate.DeliveryID(e.ID, webhookID), ProjectID: projectID, EventID: e.ID, WebhookID: webhookID,
		EventType: in.Type, Kind: hookgate.KindEvent, Status: hookgate.DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var status string
		err := tx.QueryRowContext(ctx, s.q(`SELECT status FROM webhooks WHERE project_id = ? AND id = ?`), projectID, webhookID).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return hookgate.NotFound("webhook")
		}
		if err != nil {
			return err
		}
		if status != hookgate.StatusActive {
			return &hookgate.Error{Code: hookgate.EConflict, Message: "the webhook is " + status + "; activate it first"}
		}
		us := micros(now)
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO events (`+eventCols+`, direct_webhook) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			e.ID, projectID, e.Type, string(e.Data), "", 1, us, e.Trace.Traceparent(), e.Trace.State, webhookID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO deliveries (`+deliveryCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			d.ID, projectID, e.ID, webhookID, e.Type, d.Status, 0, us, 0, 0, "", us, us); err != nil {
			return err
		}
		if s.engine == EnginePostgres {
			_, err = tx.ExecContext(ctx, "SELECT pg_notify('"+s.wakeCh+"', '')")
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return e, d, nil
}

// finishesHeads reports whether the outcomes of reqs finish the head of a
// FIFO key: its successor may then go to the adopter.
func finishesHeads(reqs []*ingestReq) bool {
	for _, r := range reqs {
		for i := range r.outcomes {
			if r.outcomes[i].FinishesHead() {
				return true
			}
		}
	}
	return false
}
