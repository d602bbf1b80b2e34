package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/hookgate/hookgate"
)

// ClaimDue leases up to limit pending deliveries that are due at now and not
// leased, to node until now+lease, and returns them. On PostgreSQL, rows locked by
// another node's claim are skipped (FOR UPDATE SKIP LOCKED); on SQLite the
// single writer makes the statement atomic. The lease is the rows'
// lease_until, which RecordAttempts checks, so that a node whose lease
// expired cannot overwrite the work of the node that took the row over.
func (s *Store) ClaimDue(ctx context.Context, node string, now time.Time, limit int, lease time.Duration) ([]*hookgate.Delivery, time.Time, error) {
	until := now.Add(lease).Truncate(time.Microsecond)
	lock := ""
	if s.engine == EnginePostgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	rows, err := s.write.QueryContext(ctx, s.q(`UPDATE deliveries SET lease_until = ?, lease_node = ?
		WHERE (project_id, id) IN (SELECT project_id, id FROM deliveries
			WHERE status = 'pending' AND next_attempt_at <= ? AND lease_until < ?
			ORDER BY next_attempt_at LIMIT ?`+lock+`)
		RETURNING `+deliveryReadCols), micros(until), node, micros(now), micros(now), limit)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer rows.Close()
	var out []*hookgate.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, time.Time{}, err
		}
		out = append(out, d)
	}
	return out, until, rows.Err()
}

// RecordAttempts stores attempts and moves their deliveries on, in one
// transaction of a few statements whatever the number of outcomes. A
// delivery whose lease is no longer the one given keeps its state (another
// node owns it now); its attempt is recorded all the same. An outcome
// without an attempt only moves its delivery on: the last attempt's status
// and error stay.
func (s *Store) RecordAttempts(ctx context.Context, now time.Time, outs []hookgate.AttemptOutcome) error {
	if len(outs) == 0 {
		return nil
	}
	if err := s.prepareInserts(ctx); err != nil {
		return err
	}
	var attempts [][]any
	for _, o := range outs {
		a := o.Attempt
		if a.ID == "" {
			continue // no request was made
		}
		attempts = append(attempts, attemptRow(o.ProjectID, &a))
	}
	streaks := failureStreaks(outs)
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.insertRows(ctx, tx, "attempts", attemptCols, attempts); err != nil {
			return err
		}
		for _, st := range streaks {
			q := `UPDATE webhooks SET failing_since = ? WHERE id = ?`
			if !st.reset {
				q += ` AND failing_since = 0`
			}
			if _, err := tx.ExecContext(ctx, s.q(q), st.since, st.webhookID); err != nil {
				return err
			}
		}
		for len(outs) > 0 {
			n := min(len(outs), 100)
			if err := s.moveDeliveries(ctx, tx, now, outs[:n]); err != nil {
				return err
			}
			outs = outs[n:]
		}
		return nil
	})
}

// moveSet is the SET clause applying an outcome to its delivery, given the
// SQL of its values: made is 1 when an attempt was made (else the last
// attempt's status code and error stay).
func moveSet(status, made, next, code, errText, now string) string {
	return `status = ` + status + `, attempts = deliveries.attempts + ` + made + `, next_attempt_at = ` + next + `, lease_until = 0,
		last_status_code = CASE WHEN ` + made + ` = 1 THEN ` + code + ` ELSE deliveries.last_status_code END,
		last_error = CASE WHEN ` + made + ` = 1 THEN ` + errText + ` ELSE deliveries.last_error END, updated_at = ` + now
}

// moveArgs are an outcome's values in the order of moveSet's columns:
// project, id, status, made, next, status code, error, lease.
func moveArgs(o hookgate.AttemptOutcome) []any {
	next := int64(0)
	if o.Status == hookgate.DeliveryPending {
		next = micros(o.NextAttemptAt)
	}
	made := 0
	if o.Attempt.ID != "" {
		made = 1
	}
	return []any{o.ProjectID, o.Attempt.DeliveryID, o.Status, made, next, o.Attempt.StatusCode, o.Attempt.Error, micros(o.LeaseUntil)}
}

// moveDeliveries applies outcomes to their deliveries: on PostgreSQL with
// one UPDATE … FROM (VALUES …), a single round trip; on SQLite, in process,
// with one indexed UPDATE each (its planner may scan the whole table for an
// UPDATE … FROM).
func (s *Store) moveDeliveries(ctx context.Context, tx *sql.Tx, now time.Time, outs []hookgate.AttemptOutcome) error {
	if s.engine == EngineSQLite {
		st, err := tx.PrepareContext(ctx, `UPDATE deliveries SET `+moveSet("?3", "?4", "?5", "?6", "?7", "?9")+
			` WHERE project_id = ?1 AND id = ?2 AND lease_until = ?8`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, o := range outs {
			if _, err := st.ExecContext(ctx, append(moveArgs(o), micros(now))...); err != nil {
				return err
			}
		}
		return nil
	}
	var b strings.Builder
	b.WriteString(`UPDATE deliveries SET ` + moveSet("v.column3", "v.column4", "v.column5", "v.column6", "v.column7", "?") + ` FROM (VALUES `)
	args := make([]any, 0, 1+8*len(outs))
	args = append(args, micros(now))
	for i, o := range outs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS BIGINT))`)
		args = append(args, moveArgs(o)...)
	}
	b.WriteString(`) AS v WHERE deliveries.project_id = v.column1 AND deliveries.id = v.column2 AND deliveries.lease_until = v.column8`)
	_, err := tx.ExecContext(ctx, s.q(b.String()), args...)
	return err
}

// streak is the change a batch of attempts makes to a webhook's failure
// streak: with reset, failing_since becomes since (0 when the last attempt
// succeeded); without, a streak starts at since unless one runs.
type streak struct {
	webhookID string
	since     int64
	reset     bool
}

// failureStreaks folds outcomes, in order, into one change per webhook.
func failureStreaks(outs []hookgate.AttemptOutcome) []streak {
	var order []string
	by := map[string]*streak{}
	for _, o := range outs {
		if o.WebhookID == "" || o.Attempt.ID == "" {
			continue
		}
		st, ok := by[o.WebhookID]
		if !ok {
			st = &streak{webhookID: o.WebhookID}
			by[o.WebhookID] = st
			order = append(order, o.WebhookID)
		}
		switch {
		case o.Status == hookgate.DeliverySucceeded:
			st.since, st.reset = 0, true
		case st.since == 0:
			st.since = micros(o.Attempt.StartedAt)
		}
	}
	out := make([]streak, len(order))
	for i, id := range order {
		out[i] = *by[id]
	}
	return out
}

const attemptCols = "id, project_id, delivery_id, attempt, started_at, duration_ms, status_code, response_headers, response_body, error, request_method, request_url, request_headers, response_body_encoding"

// attemptRow is a's values in the order of attemptCols.
func attemptRow(projectID string, a *hookgate.Attempt) []any {
	reqH := ""
	if a.RequestHeaders != nil {
		reqH = jsonText(a.RequestHeaders)
	}
	return []any{a.ID, projectID, a.DeliveryID, a.Attempt, micros(a.StartedAt), a.DurationMs, a.StatusCode, jsonText(a.ResponseHeaders),
		a.ResponseBody, a.Error, a.RequestMethod, a.RequestURL, reqH, a.ResponseBodyEncoding}
}

// ListAttempts lists a page of a delivery's attempts, the latest first.
func (s *Store) ListAttempts(ctx context.Context, projectID, deliveryID string, page hookgate.Page) ([]*hookgate.Attempt, string, error) {
	limit := pageLimit(page)
	return queryPage(ctx, s.read, s.q(`SELECT id, delivery_id, attempt, started_at, duration_ms, status_code, response_headers, response_body, error,
		request_method, request_url, request_headers, response_body_encoding
		FROM attempts WHERE project_id = ? AND delivery_id = ? AND (? = '' OR id < ?) ORDER BY id DESC LIMIT ?`),
		limit, scanAttempt, func(a *hookgate.Attempt) string { return a.ID }, projectID, deliveryID, page.Cursor, page.Cursor, limit+1)
}

func scanAttempt(r scanner) (*hookgate.Attempt, error) {
	var a hookgate.Attempt
	var started int64
	var headers, reqHeaders string
	if err := r.Scan(&a.ID, &a.DeliveryID, &a.Attempt, &started, &a.DurationMs, &a.StatusCode, &headers, &a.ResponseBody, &a.Error,
		&a.RequestMethod, &a.RequestURL, &reqHeaders, &a.ResponseBodyEncoding); err != nil {
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
		if kind != hookgate.KindEvent {
			// Triggers are never queued: the dispatcher sends events only.
			return &hookgate.Error{Code: hookgate.EConflict, Message: "a trigger is not queued; it is re-run by the API at once"}
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE deliveries SET status = ?, next_attempt_at = ?, lease_until = 0, updated_at = ?
			WHERE project_id = ? AND id = ?`), hookgate.DeliveryPending, micros(now), micros(now), projectID, id); err != nil {
			return err
		}
		d, err = s.findDeliveryTx(ctx, tx, projectID, id)
		return err
	})
	return d, err
}

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
	res, err := s.write.ExecContext(ctx, s.q(`UPDATE deliveries SET status = ?, next_attempt_at = ?, lease_until = 0, updated_at = ?
		WHERE webhook_id = ? AND status = ? AND kind = ? AND created_at >= ?`), hookgate.DeliveryPending, us, us, webhookID, hookgate.DeliveryFailed, hookgate.KindEvent, micros(since))
	if err != nil {
		return 0, 0, err
	}
	n, _ := res.RowsAffected()
	requeued = int(n)
	// Walk the events since then, oldest first, a page at a time; none from
	// before the webhook existed.
	from := micros(since)
	if created := micros(w.CreatedAt); created > from {
		from = created
	}
	cursor := ""
	for {
		rows, err := s.read.QueryContext(ctx, s.q(`SELECT id, type FROM events WHERE project_id = ? AND created_at >= ? AND id > ? AND direct_webhook = ''
			ORDER BY id LIMIT 500`), projectID, from, cursor)
		if err != nil {
			return requeued, created, err
		}
		var batch [][2]string
		for rows.Next() {
			var id, typ string
			if err := rows.Scan(&id, &typ); err != nil {
				rows.Close()
				return requeued, created, err
			}
			batch = append(batch, [2]string{id, typ})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return requeued, created, err
		}
		if len(batch) == 0 {
			return requeued, created, nil
		}
		cursor = batch[len(batch)-1][0]
		err = s.tx(ctx, func(tx *sql.Tx) error {
			ins, err := tx.PrepareContext(ctx, s.q(`INSERT INTO deliveries (`+deliveryCols+`) VALUES (?, ?, ?, ?, ?, ?, 0, ?, 0, 0, '', ?, ?)
				ON CONFLICT (project_id, id) DO NOTHING`))
			if err != nil {
				return err
			}
			defer ins.Close()
			for _, ev := range batch {
				if !w.Subscribes(ev[1]) {
					continue
				}
				r, err := ins.ExecContext(ctx, hookgate.DeliveryID(ev[0], webhookID), projectID, ev[0], webhookID, ev[1], hookgate.DeliveryPending, us, us, us)
				if err != nil {
					return err
				}
				if n, _ := r.RowsAffected(); n == 1 {
					created++
				}
			}
			return nil
		})
		if err != nil {
			return requeued, created, err
		}
	}
}

// QueueStats counts pending deliveries that are due at now and those
// scheduled later, and tells when the oldest due one became due (zero when
// none is).
func (s *Store) QueueStats(ctx context.Context, now time.Time) (due, scheduled int64, oldestDue time.Time, err error) {
	var oldest sql.NullInt64
	n := micros(now)
	err = s.read.QueryRowContext(ctx, s.q(`SELECT
		COALESCE(SUM(CASE WHEN next_attempt_at <= ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN next_attempt_at > ? THEN 1 ELSE 0 END), 0),
		MIN(next_attempt_at)
		FROM deliveries WHERE status = 'pending'`), n, n).Scan(&due, &scheduled, &oldest)
	if err == nil && due > 0 && oldest.Valid {
		oldestDue = fromMicros(oldest.Int64)
	}
	return due, scheduled, oldestDue, err
}

// DisableFailing disables the active webhooks whose every attempt has failed
// since before cutoff, pausing their pending deliveries, and returns them.
func (s *Store) DisableFailing(ctx context.Context, cutoff, now time.Time) ([]*hookgate.Webhook, error) {
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT project_id, id FROM webhooks WHERE status = ? AND failing_since > 0 AND failing_since < ?`),
		hookgate.StatusActive, micros(cutoff))
	if err != nil {
		return nil, err
	}
	var ids [][2]string
	for rows.Next() {
		var p, id string
		if err := rows.Scan(&p, &id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, [2]string{p, id})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []*hookgate.Webhook
	for _, r := range ids {
		w, err := s.SetWebhookStatus(ctx, r[0], r[1], hookgate.StatusDisabled, now)
		if err != nil {
			return out, err
		}
		out = append(out, w)
	}
	return out, nil
}
