package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/hookgate/hookgate"
)

// FindDelivery finds a delivery: on PostgreSQL in deliveries, then in its
// history (see readHot).
func (s *Store) FindDelivery(ctx context.Context, projectID, id string) (*hookgate.Delivery, error) {
	d, err := readHot(ctx, s, "deliveries", deliveryReadCols, scanDelivery, projectID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookgate.NotFound("delivery")
	}
	return d, err
}

// ListDeliveries lists a project's deliveries, newest first. The query holds
// only the filters in use, so that the planner picks the index that fits: an
// event's deliveries are a range of the primary key (see DeliveryID).
func (s *Store) ListDeliveries(ctx context.Context, projectID string, f hookgate.DeliveryFilter) ([]*hookgate.Delivery, string, error) {
	limit := pageLimit(f.Page)
	q := `SELECT ` + deliveryReadCols + ` FROM delivery_rows WHERE project_id = ?`
	args := []any{projectID}
	if f.Cursor != "" {
		q += ` AND id < ?`
		args = append(args, f.Cursor)
	}
	if f.EventID != "" {
		prefix := hookgate.DeliveryIDPrefix(f.EventID)
		q += ` AND id >= ? AND id < ? AND event_id = ?`
		args = append(args, prefix, prefix+"~", f.EventID)
	}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.Kind != "" {
		q += ` AND kind = ?`
		args = append(args, f.Kind)
	}
	q, args = deliveryFilter(q, args, f.WebhookID, f.EventType, f.Since, f.Until)
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit+1)
	return queryPage(ctx, s.read, s.q(q), limit, scanDelivery, func(d *hookgate.Delivery) string { return d.ID }, args...)
}

func scanDelivery(r scanner) (*hookgate.Delivery, error) {
	var d hookgate.Delivery
	var next, lease, created, updated int64
	var key sql.NullString
	if err := r.Scan(&d.ID, &d.ProjectID, &d.EventID, &d.WebhookID, &d.EventType, &d.Status, &d.Attempts, &next, &lease,
		&d.LastStatusCode, &d.LastError, &created, &updated, &d.Kind, &d.ChainID, &key); err != nil {
		return nil, err
	}
	d.Ordered, d.OrderingKey = key.Valid, key.String
	if next != blockedUS {
		// A row waiting behind its key's head has no time of its own.
		d.NextAttemptAt = fromMicros(next)
	}
	d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &d, nil
}

const deliveryCols = "id, project_id, event_id, webhook_id, event_type, status, attempts, next_attempt_at, lease_until, last_status_code, last_error, created_at, updated_at"

// deliveryReadCols are the columns scanDelivery reads: deliveryCols, which
// event deliveries are inserted with, and the kind and chain of a trigger.
// ingestDeliveryCols are the columns ingest inserts deliveries with: those
// of deliveryCols, the node whose lease they are born with, and the
// ordering key of a FIFO webhook's (NULL for another's).
const ingestDeliveryCols = deliveryCols + ", lease_node, ordering_key"

const deliveryReadCols = deliveryCols + ", kind, chain_id, ordering_key"

const attemptCols = "id, project_id, delivery_id, attempt, started_at, duration_ms, status_code, response_headers, response_body, error, request_method, request_url, request_headers, response_body_encoding, webhook_id, trace_id, span_id, request_body, node"

// attemptRow is a's values in the order of attemptCols.
func attemptRow(projectID, webhookID string, a *hookgate.Attempt) []any {
	reqH := ""
	if a.RequestHeaders != nil {
		reqH = jsonText(a.RequestHeaders)
	}
	return []any{a.ID, projectID, a.DeliveryID, a.Attempt, micros(a.StartedAt), a.DurationMs, a.StatusCode, jsonText(a.ResponseHeaders),
		a.ResponseBody, a.Error, a.RequestMethod, a.RequestURL, reqH, a.ResponseBodyEncoding, webhookID, a.TraceID, a.SpanID, a.RequestBody, a.Node}
}

// ListAttempts lists a page of a delivery's attempts, the latest first.
func (s *Store) ListAttempts(ctx context.Context, projectID, deliveryID string, page hookgate.Page) ([]*hookgate.Attempt, string, error) {
	limit := pageLimit(page)
	return queryPage(ctx, s.read, s.q(`SELECT id, delivery_id, attempt, started_at, duration_ms, status_code, response_headers, response_body, error,
		request_method, request_url, request_headers, response_body_encoding, trace_id, span_id, request_body, node
		FROM attempts WHERE project_id = ? AND delivery_id = ? AND (? = '' OR id < ?) ORDER BY id DESC LIMIT ?`),
		limit, scanAttempt, func(a *hookgate.Attempt) string { return a.ID }, projectID, deliveryID, page.Cursor, page.Cursor, limit+1)
}

func scanAttempt(r scanner) (*hookgate.Attempt, error) {
	var a hookgate.Attempt
	var started int64
	var headers, reqHeaders string
	if err := r.Scan(&a.ID, &a.DeliveryID, &a.Attempt, &started, &a.DurationMs, &a.StatusCode, &headers, &a.ResponseBody, &a.Error,
		&a.RequestMethod, &a.RequestURL, &reqHeaders, &a.ResponseBodyEncoding, &a.TraceID, &a.SpanID, &a.RequestBody, &a.Node); err != nil {
		return nil, err
	}
	a.StartedAt = fromMicros(started)
	_ = json.Unmarshal([]byte(headers), &a.ResponseHeaders)
	if reqHeaders != "" {
		_ = json.Unmarshal([]byte(reqHeaders), &a.RequestHeaders)
	}
	return &a, nil
}

// RetryDelivery queues a delivery again, due now, with the same ID.
func (s *Store) RetryDelivery(ctx context.Context, projectID, id string, now time.Time) (*hookgate.Delivery, error) {
	var d *hookgate.Delivery
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.unarchive(ctx, tx, projectID, []string{id}); err != nil {
			return err
		}
		var status string
		var kind string
		err := tx.QueryRowContext(ctx, s.q(`SELECT w.status, d.kind FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
			WHERE d.project_id = ? AND d.id = ?`), projectID, id).Scan(&status, &kind)
		if errors.Is(err, sql.ErrNoRows) {
			// The delivery does not exist, or its webhook was deleted.
			if _, ferr := s.findDeliveryTx(ctx, tx, projectID, id); ferr != nil {
				return ferr
			}
			return &hookgate.Error{Code: hookgate.EConflict, Message: "the delivery's webhook was deleted"}
		}
		if err != nil {
			return err
		}
		if status != hookgate.StatusActive {
			return &hookgate.Error{Code: hookgate.EConflict, Message: "the delivery's webhook is " + status + "; activate it first"}
		}
		if kind == hookgate.KindProbe {
			return &hookgate.Error{Code: hookgate.EConflict, Message: "a recovery probe is not sent again; the webhook's recovery makes the next one"}
		}
		if kind != hookgate.KindEvent {
			// Triggers are never queued: the dispatcher sends events only.
			return &hookgate.Error{Code: hookgate.EConflict, Message: "a trigger is not queued; it is re-run by the API at once"}
		}
		// An ordered delivery goes back in line: it goes first once its
		// key has no delivery in flight, if no older one waits.
		if err := s.lockOrdering(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE deliveries SET status = ?, next_attempt_at = `+requeueNext+`, lease_until = 0, updated_at = ?
			WHERE project_id = ? AND id = ?`), hookgate.DeliveryPending, micros(now), micros(now), projectID, id); err != nil {
			return err
		}
		if err := s.promoteFor(ctx, tx, projectID, []string{id}, now); err != nil {
			return err
		}
		d, err = s.findDeliveryTx(ctx, tx, projectID, id)
		return err
	})
	return d, err
}

// findDeliveryTx reads a delivery in tx, which brought it back from its
// history first (unarchive): it is in deliveries, if anywhere.
func (s *Store) findDeliveryTx(ctx context.Context, tx *sql.Tx, projectID, id string) (*hookgate.Delivery, error) {
	d, err := scanDelivery(tx.QueryRowContext(ctx, s.q(`SELECT `+deliveryReadCols+` FROM deliveries WHERE project_id = ? AND id = ?`), projectID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookgate.NotFound("delivery")
	}
	return d, err
}

// RecoverWebhook queues again the webhook's failed deliveries created since
// since, and creates the deliveries it lacks for the events it would have
// received since then: published to the project (not another webhook's
// direct test event), at or after the webhook's creation, and selected by
// its filter (those that arrived while it was deactivated or disabled).
// Delivery IDs are derived from event and webhook, so a delivery is never
// created twice. The webhook must be active (EConflict).
func (s *Store) RecoverWebhook(ctx context.Context, projectID, webhookID string, since, now time.Time) (requeued, created int, err error) {
	w, err := s.FindWebhook(ctx, projectID, webhookID)
	if err != nil {
		return 0, 0, err
	}
	if w.Status != hookgate.StatusActive {
		return 0, 0, &hookgate.Error{Code: hookgate.EConflict, Message: "the webhook is " + w.Status + "; activate it first"}
	}
	us := micros(now)
	// Ordered rows go back in line, in the order of their IDs, behind the
	// head of their key.
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockOrdering(ctx, tx); err != nil {
			return err
		}
		if err := s.unarchiveFailed(ctx, tx, webhookID, micros(since)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE deliveries SET status = ?, next_attempt_at = `+requeueNext+`, lease_until = 0, updated_at = ?
			WHERE webhook_id = ? AND status = ? AND kind = ? AND created_at >= ?`), hookgate.DeliveryPending, us, us, webhookID, hookgate.DeliveryFailed, hookgate.KindEvent, micros(since))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		requeued = int(n)
		if n == 0 || !w.Ordered() {
			return nil
		}
		return s.promoteWebhook(ctx, tx, webhookID, now)
	})
	if err != nil {
		return 0, 0, err
	}
	// Walk the events since then, oldest first, a page at a time; none from
	// before the webhook existed.
	from := micros(since)
	if created := micros(w.CreatedAt); created > from {
		from = created
	}
	cursor := ""
	for {
		data := "''"
		if w.OrderingKey != "" || w.Filter != "" {
			data = "data" // the ordering key is in it, and the filter reads it
		}
		rows, err := s.read.QueryContext(ctx, s.q(`SELECT id, type, created_at, `+data+` FROM event_rows WHERE project_id = ? AND created_at >= ? AND id > ? AND direct_webhook = ''
			ORDER BY id LIMIT 500`), projectID, from, cursor)
		if err != nil {
			return requeued, created, err
		}
		var batch []recoverEvent
		for rows.Next() {
			var ev recoverEvent
			var at int64
			var data string
			if err := rows.Scan(&ev.id, &ev.typ, &at, &data); err != nil {
				rows.Close()
				return requeued, created, err
			}
			// The filter keeps it from the webhook, as at ingest.
			ev.filtered = w.Filter != "" && w.Subscribes(ev.typ) && !filterPasses(ctx, w, ev.id, ev.typ, fromMicros(at), json.RawMessage(data))
			if w.Ordered() {
				ev.key = hookgate.OrderingKeyOf(w.OrderingKey, ev.typ, fromMicros(at), json.RawMessage(data))
			}
			batch = append(batch, ev)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return requeued, created, err
		}
		if len(batch) == 0 {
			return requeued, created, nil
		}
		cursor = batch[len(batch)-1].id
		err = s.tx(ctx, func(tx *sql.Tx) error {
			if w.Ordered() {
				if err := s.lockOrdering(ctx, tx); err != nil {
					return err
				}
			}
			ins, err := tx.PrepareContext(ctx, s.q(recoverInsert(s.engine)))
			if err != nil {
				return err
			}
			defer ins.Close()
			made := 0
			for _, ev := range batch {
				if ev.filtered || !w.Subscribes(ev.typ) {
					continue
				}
				due, key := us, any(nil)
				if w.Ordered() {
					due, key = blockedUS, ev.key
				}
				id := hookgate.DeliveryID(ev.id, webhookID)
				args := []any{id, projectID, ev.id, webhookID, ev.typ, hookgate.DeliveryPending, due, us, us, key}
				if s.engine == EnginePostgres {
					args = append(args, projectID, id)
				}
				r, err := ins.ExecContext(ctx, args...)
				if err != nil {
					return err
				}
				if n, _ := r.RowsAffected(); n == 1 {
					made++
				}
			}
			created += made
			if made == 0 || !w.Ordered() {
				return nil
			}
			return s.promoteWebhook(ctx, tx, webhookID, now)
		})
		if err != nil {
			return requeued, created, err
		}
	}
}

// recoverInsert is the statement RecoverWebhook creates a missing delivery
// with: none is made where one exists, in deliveries or, on PostgreSQL, in
// deliveries_history (its last two arguments, the project and the ID).
func recoverInsert(engine string) string {
	if engine != EnginePostgres {
		return `INSERT INTO deliveries (` + deliveryCols + `, ordering_key) VALUES (?, ?, ?, ?, ?, ?, 0, ?, 0, 0, '', ?, ?, ?)
			ON CONFLICT (project_id, id) DO NOTHING`
	}
	return `INSERT INTO deliveries (` + deliveryCols + `, ordering_key) SELECT ?, ?, ?, ?, ?, ?, 0, ?::bigint, 0, 0, '', ?::bigint, ?::bigint, ?
		WHERE NOT EXISTS (SELECT 1 FROM deliveries_history WHERE project_id = ? AND id = ?) ON CONFLICT (project_id, id) DO NOTHING`
}

// recoverEvent is an event RecoverWebhook may create a delivery for, with
// its ordering key for a FIFO webhook, unless its filter keeps it from it.
type recoverEvent struct {
	id, typ, key string
	filtered     bool // by the webhook's filter
}

// deliveryFilter adds to a query of deliveries the conditions of the
// filters lists and redrives share: a webhook, an event type and a range of
// creation, each when given. The range is on created_at, not the ID's time:
// IDs never go back, so after the clock did, an ID's time may be later than
// its row's.
func deliveryFilter(q string, args []any, webhookID, eventType string, since, until time.Time) (string, []any) {
	if webhookID != "" {
		q += ` AND webhook_id = ?`
		args = append(args, webhookID)
	}
	if eventType != "" {
		q += ` AND event_type = ?`
		args = append(args, eventType)
	}
	if !since.IsZero() {
		q += ` AND created_at >= ?`
		args = append(args, micros(since))
	}
	if !until.IsZero() {
		q += ` AND created_at < ?`
		args = append(args, micros(until))
	}
	return q, args
}
