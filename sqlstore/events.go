package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate"
)

const eventCols = "id, project_id, type, data, idempotency_key, deliveries, created_at"

const deliveryCols = "id, project_id, event_id, webhook_id, event_type, status, attempts, next_attempt_at, lease_until, last_status_code, last_error, created_at, updated_at"

// CreateEvents accepts events through the group committer.
func (s *Store) CreateEvents(ctx context.Context, projectID string, in []hookgate.EventInput) ([]*hookgate.Event, error) {
	r := &ingestReq{projectID: projectID, in: in, done: make(chan struct{})}
	if err := s.ingest.submit(ctx, r); err != nil {
		return nil, err
	}
	return r.out, nil
}

// subscriber is what ingest needs to know of an active webhook.
type subscriber struct {
	id     string
	events []string
}

type idemKey struct{ project, key string }

// commitEvents writes the events of reqs, their deliveries and idempotency
// keys in one transaction.
func (s *Store) commitEvents(reqs []*ingestReq) error {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	now := s.now().UTC()
	nowUS := micros(now)
	subs := map[string][]subscriber{}
	seen := map[idemKey]*hookgate.Event{}
	var events, deliveries [][]any
	for _, r := range reqs {
		r.out = make([]*hookgate.Event, len(r.in))
		hooks, ok := subs[r.projectID]
		if !ok {
			if hooks, err = s.subscribers(ctx, tx, r.projectID); err != nil {
				return err
			}
			subs[r.projectID] = hooks
		}
		for i, in := range r.in {
			id := hookgate.NewID(hookgate.PrefixEvent, now)
			if in.IdempotencyKey != "" {
				k := idemKey{r.projectID, in.IdempotencyKey}
				if e := seen[k]; e != nil {
					r.out[i] = replayOf(e)
					continue
				}
				e, err := s.claimIdempotencyKey(ctx, tx, k, id, nowUS)
				if err != nil {
					return err
				}
				if e != nil {
					seen[k] = e
					r.out[i] = replayOf(e)
					continue
				}
			}
			e := &hookgate.Event{
				ID: id, ProjectID: r.projectID, Type: in.Type,
				Data: in.Data, IdempotencyKey: in.IdempotencyKey, CreatedAt: now.Truncate(time.Microsecond),
			}
			for _, h := range hooks {
				if !hookgate.MatchesFilters(h.events, in.Type) {
					continue
				}
				e.Deliveries++
				deliveries = append(deliveries, []any{hookgate.NewID(hookgate.PrefixDelivery, now), r.projectID, e.ID, h.id, in.Type,
					hookgate.DeliveryPending, 0, nowUS, 0, 0, "", nowUS, nowUS})
			}
			events = append(events, []any{e.ID, r.projectID, e.Type, string(e.Data), e.IdempotencyKey, e.Deliveries, nowUS})
			if in.IdempotencyKey != "" {
				seen[idemKey{r.projectID, in.IdempotencyKey}] = e
			}
			r.out[i] = e
		}
	}
	if err := s.insertRows(ctx, tx, "events", eventCols, events); err != nil {
		return err
	}
	if err := s.insertRows(ctx, tx, "deliveries", deliveryCols, deliveries); err != nil {
		return err
	}
	return tx.Commit()
}

func replayOf(e *hookgate.Event) *hookgate.Event {
	c := *e
	c.Replayed = true
	return &c
}

func (s *Store) subscribers(ctx context.Context, tx *sql.Tx, projectID string) ([]subscriber, error) {
	rows, err := tx.QueryContext(ctx, s.q(`SELECT id, events FROM webhooks WHERE project_id = ? AND status = ?`), projectID, hookgate.StatusActive)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []subscriber
	for rows.Next() {
		var sub subscriber
		var events string
		if err := rows.Scan(&sub.id, &events); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(events), &sub.events); err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// claimIdempotencyKey makes key k name the new event eventID, unless an
// unexpired claim exists: then it returns the event that claim names. On
// PostgreSQL a concurrent claim of the same key by an uncommitted
// transaction makes this wait for it, so two nodes never both create an
// event for one key.
func (s *Store) claimIdempotencyKey(ctx context.Context, tx *sql.Tx, k idemKey, eventID string, nowUS int64) (*hookgate.Event, error) {
	res, err := tx.ExecContext(ctx, s.q(`INSERT INTO idempotency_keys (project_id, key, event_id, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (project_id, key) DO UPDATE SET event_id = excluded.event_id, expires_at = excluded.expires_at
		WHERE idempotency_keys.expires_at <= ?`), k.project, k.key, eventID, nowUS+hookgate.IdempotencyWindow.Microseconds(), nowUS)
	if err != nil {
		return nil, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return nil, err
	}
	e, err := scanEvent(tx.QueryRowContext(ctx, s.q(`SELECT `+eventCols+` FROM events WHERE id = (SELECT event_id FROM idempotency_keys WHERE project_id = ? AND key = ?)`), k.project, k.key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("idempotency key %q names a missing event", k.key)
	}
	return e, err
}

// insertRows inserts rows with multi-row INSERT statements, in chunks that
// stay under both engines' limit on bound parameters.
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, table, cols string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	width := len(rows[0])
	chunk := 30000 / width
	for start := 0; start < len(rows); start += chunk {
		end := min(start+chunk, len(rows))
		var b strings.Builder
		b.Grow(64 + (end-start)*width*5)
		b.WriteString("INSERT INTO ")
		b.WriteString(table)
		b.WriteString(" (")
		b.WriteString(cols)
		b.WriteString(") VALUES ")
		args := make([]any, 0, (end-start)*width)
		n := 0
		for i, row := range rows[start:end] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			for j := range row {
				if j > 0 {
					b.WriteByte(',')
				}
				n++
				if s.engine == EnginePostgres {
					b.WriteByte('$')
					b.WriteString(strconv.Itoa(n))
				} else {
					b.WriteByte('?')
				}
			}
			b.WriteByte(')')
			args = append(args, row...)
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// FindEvent finds an event.
func (s *Store) FindEvent(ctx context.Context, projectID, id string) (*hookgate.Event, error) {
	e, err := scanEvent(s.read.QueryRowContext(ctx, s.q(`SELECT `+eventCols+` FROM events WHERE project_id = ? AND id = ?`), projectID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookgate.NotFound("event")
	}
	return e, err
}

// ListEvents lists a project's events, newest first.
func (s *Store) ListEvents(ctx context.Context, projectID string, f hookgate.EventFilter) ([]*hookgate.Event, string, error) {
	limit := pageLimit(f.Page)
	return queryPage(ctx, s.read, s.q(`SELECT `+eventCols+` FROM events WHERE project_id = ? AND (? = '' OR id < ?) AND (? = '' OR type = ?) ORDER BY id DESC LIMIT ?`),
		limit, scanEvent, func(e *hookgate.Event) string { return e.ID }, projectID, f.Cursor, f.Cursor, f.Type, f.Type, limit+1)
}

func scanEvent(r scanner) (*hookgate.Event, error) {
	var e hookgate.Event
	var data string
	var created int64
	if err := r.Scan(&e.ID, &e.ProjectID, &e.Type, &data, &e.IdempotencyKey, &e.Deliveries, &created); err != nil {
		return nil, err
	}
	e.Data = json.RawMessage(data)
	e.CreatedAt = fromMicros(created)
	return &e, nil
}
