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

// deliveryReadCols are the columns scanDelivery reads: deliveryCols, which
// event deliveries are inserted with, and the kind and chain of a trigger.
const deliveryReadCols = deliveryCols + ", kind, chain_id"

// MaxPageBytes bounds the event data of one page of a list.
const MaxPageBytes = 4 << 20

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

// claimed is the event an idempotency key names, and the digest of the
// body that created it.
type claimed struct {
	e    *hookgate.Event
	hash string
}

// sameBody refuses the reuse of key k for another body. Either digest
// empty (a platform's post, a key claimed before digests were kept)
// compares equal.
func sameBody(k idemKey, stored, given string) error {
	if stored == "" || given == "" || stored == given {
		return nil
	}
	return &hookgate.Error{Code: hookgate.EIdempotencyConflict, Param: "Idempotency-Key", Value: k.key,
		Message: "this Idempotency-Key was used within 24 hours for a different event; use a new key for a new event"}
}

// commitEvents writes the events of reqs, their deliveries and idempotency
// keys in one transaction.
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
	matches := make([][][]string, len(reqs))
	subs := map[string][]subscriber{}
	for ri, r := range reqs {
		hooks, ok := subs[r.projectID]
		if !ok {
			var err error
			if hooks, err = s.subscribers(ctx, s.read, r.projectID); err != nil {
				return err
			}
			subs[r.projectID] = hooks
		}
		matches[ri] = make([][]string, len(r.in))
		for i, in := range r.in {
			for _, h := range hooks {
				if hookgate.MatchesFilters(h.events, in.Type) {
					matches[ri][i] = append(matches[ri][i], h.id)
				}
			}
		}
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	now := s.now().UTC()
	nowUS := micros(now)
	seen := map[idemKey]claimed{}
	var events, deliveries [][]any
	for ri, r := range reqs {
		r.out = make([]*hookgate.Event, len(r.in))
		for i, in := range r.in {
			id := hookgate.NewID(hookgate.PrefixEvent, now)
			if in.IdempotencyKey != "" {
				k := idemKey{r.projectID, in.IdempotencyKey}
				if c, ok := seen[k]; ok {
					if err := sameBody(k, c.hash, in.BodyHash); err != nil {
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
					if err := sameBody(k, hash, in.BodyHash); err != nil {
						return err
					}
					seen[k] = claimed{e, hash}
					r.out[i] = replayOf(e)
					continue
				}
			}
			e := &hookgate.Event{
				ID: id, ProjectID: r.projectID, Type: in.Type,
				Data: in.Data, IdempotencyKey: in.IdempotencyKey, CreatedAt: now.Truncate(time.Microsecond),
			}
			for _, hid := range matches[ri][i] {
				e.Deliveries++
				deliveries = append(deliveries, []any{hookgate.DeliveryID(e.ID, hid), r.projectID, e.ID, hid, in.Type,
					hookgate.DeliveryPending, 0, nowUS, 0, 0, "", nowUS, nowUS})
			}
			events = append(events, []any{e.ID, r.projectID, e.Type, string(e.Data), e.IdempotencyKey, e.Deliveries, nowUS})
			if in.IdempotencyKey != "" {
				seen[idemKey{r.projectID, in.IdempotencyKey}] = claimed{e, in.BodyHash}
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
	if len(deliveries) > 0 && s.engine == EnginePostgres {
		// Delivered to every node's Listen when the transaction commits.
		if _, err := tx.ExecContext(ctx, "SELECT pg_notify('"+wakeChannel+"', '')"); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func replayOf(e *hookgate.Event) *hookgate.Event {
	c := *e
	c.Replayed = true
	return &c
}

func (s *Store) subscribers(ctx context.Context, db *sql.DB, projectID string) ([]subscriber, error) {
	rows, err := db.QueryContext(ctx, s.q(`SELECT id, events FROM webhooks WHERE project_id = ? AND status = ? AND trigger_only = 0`), projectID, hookgate.StatusActive)
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
func (s *Store) claimIdempotencyKey(ctx context.Context, tx *sql.Tx, k idemKey, eventID, hash string, nowUS int64) (*hookgate.Event, string, error) {
	res, err := tx.ExecContext(ctx, s.q(`INSERT INTO idempotency_keys (project_id, key, event_id, expires_at, body_hash) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (project_id, key) DO UPDATE SET event_id = excluded.event_id, expires_at = excluded.expires_at, body_hash = excluded.body_hash
		WHERE idempotency_keys.expires_at <= ?`), k.project, k.key, eventID, nowUS+hookgate.IdempotencyWindow.Microseconds(), hash, nowUS)
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
	e, err := scanEvent(tx.QueryRowContext(ctx, s.q(`SELECT `+eventCols+` FROM events WHERE project_id = ? AND id = (SELECT event_id FROM idempotency_keys WHERE project_id = ? AND key = ?)`), k.project, k.project, k.key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", fmt.Errorf("idempotency key %q names a missing event", k.key)
	}
	return e, stored, err
}

// insertChunks are the row counts of the multi-row INSERT statements that
// insertRows uses. A few fixed sizes keep the statement texts few, so that
// they are prepared once (SQLite) or hit pgx's statement cache (PostgreSQL)
// instead of being parsed for every batch.
var insertChunks = []int{256, 64, 16, 4, 1}

// insertRows inserts rows with multi-row INSERT statements.
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, table, cols string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	width := len(rows[0])
	args := make([]any, 0, insertChunks[0]*width)
	for len(rows) > 0 {
		n := insertChunks[len(insertChunks)-1]
		for _, c := range insertChunks {
			if c <= len(rows) {
				n = c
				break
			}
		}
		stmt, err := s.insertStmt(table, n)
		if err != nil {
			return err
		}
		args = args[:0]
		for _, row := range rows[:n] {
			args = append(args, row...)
		}
		if _, err := tx.StmtContext(ctx, stmt).ExecContext(ctx, args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

type stmtKey struct {
	table string
	rows  int
}

// insertTables are the tables written with insertRows.
var insertTables = []struct{ name, cols string }{{"events", eventCols}, {"deliveries", deliveryCols}, {"attempts", attemptCols}}

// prepareInserts prepares every multi-row INSERT once. It must run outside a
// transaction: SQLite's only writer connection is busy during one.
func (s *Store) prepareInserts(ctx context.Context) error {
	if s.prepared.Load() {
		return nil
	}
	for _, t := range insertTables {
		width := strings.Count(t.cols, ",") + 1
		for _, n := range insertChunks {
			key := stmtKey{t.name, n}
			if _, ok := s.stmts.Load(key); ok {
				continue
			}
			st, err := s.write.PrepareContext(ctx, insertSQL(s.engine, t.name, t.cols, width, n))
			if err != nil {
				return err
			}
			s.stmts.Store(key, st)
		}
	}
	s.prepared.Store(true)
	return nil
}

// insertStmt returns the prepared INSERT of n rows into table.
func (s *Store) insertStmt(table string, n int) (*sql.Stmt, error) {
	st, ok := s.stmts.Load(stmtKey{table, n})
	if !ok {
		return nil, fmt.Errorf("sqlstore: no prepared insert into %s of %d rows", table, n)
	}
	return st.(*sql.Stmt), nil
}

func insertSQL(engine, table, cols string, width, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + cols + ") VALUES ")
	p := 0
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for j := range width {
			if j > 0 {
				b.WriteByte(',')
			}
			p++
			if engine == EnginePostgres {
				b.WriteString("$" + strconv.Itoa(p))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	return b.String()
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
	q := `SELECT ` + eventCols + ` FROM events WHERE project_id = ? AND (? = '' OR id < ?)`
	args := []any{projectID, f.Cursor, f.Cursor}
	switch {
	case strings.HasSuffix(f.Type, ".*"):
		// Event types hold no LIKE wildcards ('%', '_' is escaped below).
		q += ` AND type LIKE ? ESCAPE '\'`
		args = append(args, strings.ReplaceAll(strings.TrimSuffix(f.Type, "*"), "_", `\_`)+"%")
	case f.Type != "":
		q += ` AND type = ?`
		args = append(args, f.Type)
	case !f.Operational:
		q += ` AND type NOT LIKE 'hookgate.%'`
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit+1)
	list, next, err := queryPage(ctx, s.read, s.q(q), limit, scanEvent, func(e *hookgate.Event) string { return e.ID }, args...)
	if err != nil {
		return nil, "", err
	}
	// A page holds at most MaxPageBytes of data, so that one answer never
	// pins much memory; the rest is on the next page.
	size := 0
	for i, e := range list {
		if size += len(e.Data); size > MaxPageBytes && i > 0 {
			return list[:i], list[i-1].ID, nil
		}
	}
	return list, next, nil
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

// CreateDirectEvent accepts an event for one webhook only, whatever its
// filter: the event and its one delivery are committed together. The
// webhook must exist (ENotFound) and be active (EConflict).
func (s *Store) CreateDirectEvent(ctx context.Context, projectID, webhookID string, in hookgate.EventInput) (*hookgate.Event, *hookgate.Delivery, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	e := &hookgate.Event{ID: hookgate.NewID(hookgate.PrefixEvent, now), ProjectID: projectID, Type: in.Type, Data: in.Data, Deliveries: 1, CreatedAt: now}
	d := &hookgate.Delivery{ID: hookgate.DeliveryID(e.ID, webhookID), ProjectID: projectID, EventID: e.ID, WebhookID: webhookID,
		EventType: in.Type, Status: hookgate.DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
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
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO events (`+eventCols+`, direct_webhook) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			e.ID, projectID, e.Type, string(e.Data), "", 1, us, webhookID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO deliveries (`+deliveryCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			d.ID, projectID, e.ID, webhookID, e.Type, d.Status, 0, us, 0, 0, "", us, us); err != nil {
			return err
		}
		if s.engine == EnginePostgres {
			_, err = tx.ExecContext(ctx, "SELECT pg_notify('"+wakeChannel+"', '')")
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return e, d, nil
}

// InlineEventBytes is the largest event data FindEventsForDelivery returns;
// larger events come without data, to be read with FindEvent when sent.
const InlineEventBytes = 64 << 10

// FindEventsForDelivery reads the events of claimed deliveries, a project
// at a time, keyed by project and event ID. Data larger than
// InlineEventBytes is left nil, so that a claimed batch never holds much
// memory.
func (s *Store) FindEventsForDelivery(ctx context.Context, ds []*hookgate.Delivery) (map[[2]string]*hookgate.Event, error) {
	byProject := map[string][]any{}
	seen := map[[2]string]bool{}
	for _, d := range ds {
		k := [2]string{d.ProjectID, d.EventID}
		if !seen[k] {
			seen[k] = true
			byProject[d.ProjectID] = append(byProject[d.ProjectID], d.EventID)
		}
	}
	out := make(map[[2]string]*hookgate.Event, len(seen))
	for project, ids := range byProject {
		q := `SELECT id, project_id, type, CASE WHEN LENGTH(data) <= ` + strconv.Itoa(InlineEventBytes) + ` THEN data END, created_at
			FROM events WHERE project_id = ? AND id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)`
		rows, err := s.read.QueryContext(ctx, s.q(q), append([]any{project}, ids...)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var e hookgate.Event
			var data sql.NullString
			var created int64
			if err := rows.Scan(&e.ID, &e.ProjectID, &e.Type, &data, &created); err != nil {
				rows.Close()
				return nil, err
			}
			if data.Valid {
				e.Data = json.RawMessage(data.String)
			}
			e.CreatedAt = fromMicros(created)
			out[[2]string{e.ProjectID, e.ID}] = &e
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
