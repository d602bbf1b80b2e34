package sqlstore

import (
	"context"
	"database/sql"
	"slices"
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
	var st *sql.Stmt
	var err error
	var args []any
	if s.engine == EnginePostgres {
		// hookgate_claim (migration 00010) is the same UPDATE with rows
		// locked by another node's claim skipped (FOR UPDATE SKIP LOCKED)
		// and planner settings that walk the due index in order.
		st, err = s.prepare(ctx, s.write, `SELECT `+deliveryReadCols+` FROM hookgate_claim(?, ?, ?, ?)`)
		args = []any{micros(until), node, micros(now), limit}
	} else {
		// An ordered row only when no older row of its key is due (rows
		// waiting as blocked do not count) and no row of its key is in
		// flight (see ordering.go).
		st, err = s.prepare(ctx, s.write, `UPDATE deliveries SET lease_until = ?1, lease_node = ?2
			WHERE (project_id, id) IN (SELECT d.project_id, d.id FROM deliveries d
				WHERE d.status = 'pending' AND d.next_attempt_at <= ?3 AND d.lease_until < ?3
				AND (d.ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM deliveries o
					WHERE o.webhook_id = d.webhook_id AND o.ordering_key = d.ordering_key AND o.status = 'pending'
					AND o.id <> d.id AND ((o.id < d.id AND o.next_attempt_at <> `+blockedText+`) OR o.lease_until >= ?3)))
				ORDER BY d.next_attempt_at LIMIT ?4)
			RETURNING `+deliveryReadCols)
		args = []any{micros(until), node, micros(now), limit}
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	rows, err := st.QueryContext(ctx, args...)
	out, err := scanAll(rows, err, scanDelivery)
	return out, until, err
}

// RecordAttempts stores attempts and moves their deliveries on: on
// PostgreSQL in one statement (recordPG), on SQLite in the next group
// commit, with the events accepted meanwhile (recordTx). A
// delivery whose lease is no longer the one given keeps its state (another
// node owns it now); its attempt is recorded all the same. An outcome
// without an attempt only moves its delivery on: the last attempt's status
// and error stay.
func (s *Store) RecordAttempts(ctx context.Context, now time.Time, outs []hookgate.AttemptOutcome) error {
	if len(outs) == 0 {
		return nil
	}
	if s.engine == EngineSQLite {
		r := &ingestReq{outcomes: outs, now: now, done: make(chan struct{})}
		return s.ingest.submit(ctx, r)
	}
	if err := s.prepareInserts(ctx); err != nil {
		return err
	}
	lines := finishedLines(outs)
	if len(lines) == 0 {
		return s.recordPG(ctx, s.write, now, attemptRows(outs), failureStreaks(outs), outs)
	}
	// The heads done and their successors made due (leased to this node's
	// dispatcher when it has room), atomically, under the keys' locks
	// (first, as every holder takes them): an ingest that puts a row in
	// line behind one of these heads either committed before the
	// promotion, which then sees its row, or promotes it itself.
	adopter, h := s.handoffFor(lines)
	var taken []*hookgate.Delivery
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockKeys(ctx, tx, lines); err != nil {
			return err
		}
		if err := s.recordPG(ctx, tx, now, attemptRows(outs), failureStreaks(outs), outs); err != nil {
			return err
		}
		var err error
		taken, err = s.promoteKeys(ctx, tx, now, lines, h)
		if err == nil && len(taken) > 0 && h == nil {
			_, err = tx.ExecContext(ctx, "SELECT pg_notify('"+s.wakeCh+"', '')")
		}
		return err
	})
	if err == nil && h != nil && len(taken) > 0 {
		adopter.Adopt(taken, nil, h.until)
	}
	return err
}

// HastenDeliveries makes due at now the rows given back due later that are
// still exactly as given back: pending, not leased (a release leaves
// lease_until at 0) and due at the time given, keyed by project and ID. It
// returns how many it made due. Any change since leaves a row alone: a
// claim by another node, a cancel, a retry or redrive, another release
// at another time; so does a release not yet recorded (best effort). A
// row given at or before now is due already and is skipped, and a FIFO
// key's waiting row is never matched (its due time, blockedUS, is no
// given time); an ordered head made due still goes only when the claim's
// rule of its key lets it. PostgreSQL makes them due in one statement,
// SQLite in one transaction on the writer, one indexed UPDATE a row (see
// moveDeliveries).
func (s *Store) HastenDeliveries(ctx context.Context, now time.Time, rows []hookgate.DueRow) (int64, error) {
	at := micros(now)
	var args [][]any
	for _, r := range rows {
		if due := micros(r.Due); due > at && due < blockedUS {
			args = append(args, []any{r.ProjectID, r.ID, due})
		}
	}
	if len(args) == 0 {
		return 0, nil
	}
	var n int64
	if s.engine == EnginePostgres {
		var p pgStatement
		u := p.arrays([]string{"text", "text", "bigint"}, args)
		nowArg := p.param(at)
		p.add(`UPDATE deliveries SET next_attempt_at = ` + nowArg + `, updated_at = ` + nowArg + ` FROM ` + u + ` AS v(project_id, id, due)
			WHERE deliveries.project_id = v.project_id AND deliveries.id = v.id AND ` + hastenable("v.due") + ` RETURNING 1`)
		err := s.write.QueryRowContext(ctx, p.sql("SELECT count(*) FROM w0"), p.args...).Scan(&n)
		return n, err
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		n = 0
		st, err := s.hotTx(ctx, tx, hastenOneSQL)
		if err != nil {
			return err
		}
		for _, a := range args {
			res, err := st.ExecContext(ctx, at, a[0], a[1], a[2])
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += k
		}
		return nil
	})
	return n, err
}

// hastenable is the condition of a row still as its release left it, due
// at due (SQL): HastenDeliveries changes no other.
func hastenable(due string) string {
	return `deliveries.status = 'pending' AND deliveries.lease_until = 0 AND deliveries.next_attempt_at = ` + due
}

// hastenOneSQL makes one given-back row due on SQLite: now, project, ID,
// the due time it was given.
var hastenOneSQL = `UPDATE deliveries SET next_attempt_at = ?1, updated_at = ?1
	WHERE deliveries.project_id = ?2 AND deliveries.id = ?3 AND ` + hastenable("?4")

// finishedLines are the keys whose head an outcome in outs finishes: an
// ordered delivery that succeeded, failed for good or was cancelled. A
// paused one keeps its place: the whole webhook waits.
func finishedLines(outs []hookgate.AttemptOutcome) []orderKey {
	var out []orderKey
	for _, o := range outs {
		if k := (orderKey{o.WebhookID, o.OrderingKey}); o.FinishesHead() && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// attemptRows are the attempts made in outs, as rows of attemptCols.
func attemptRows(outs []hookgate.AttemptOutcome) [][]any {
	var attempts [][]any
	for _, o := range outs {
		a := o.Attempt
		if a.ID == "" {
			continue // no request was made
		}
		attempts = append(attempts, attemptRow(o.ProjectID, o.WebhookID, &a))
	}
	return attempts
}

// recordTx records outcomes in tx, on SQLite, and returns the heads of
// keys it made due, leased as h says.
func (s *Store) recordTx(ctx context.Context, tx *sql.Tx, now time.Time, outs []hookgate.AttemptOutcome, h *handoff) ([]*hookgate.Delivery, error) {
	if err := s.insertRows(ctx, tx, "attempts", attemptCols, attemptRows(outs)); err != nil {
		return nil, err
	}
	for _, st := range failureStreaks(outs) {
		stmt, err := s.hotTx(ctx, tx, streakSQL(st.reset))
		if err != nil {
			return nil, err
		}
		if _, err := stmt.ExecContext(ctx, st.since, st.webhookID); err != nil {
			return nil, err
		}
	}
	if err := s.moveDeliveries(ctx, tx, now, outs); err != nil {
		return nil, err
	}
	return s.promoteKeys(ctx, tx, now, finishedLines(outs), h)
}

// moveTypes are the PostgreSQL types of moveArgs' values.
var moveTypes = []string{"text", "text", "text", "bigint", "bigint", "bigint", "text", "bigint"}

// recordPG records outcomes on PostgreSQL in one statement (see
// unnest.go): the attempts inserted, the failure streaks changed and the
// deliveries moved on, atomically. A webhook has one streak change per
// batch and a delivery one outcome, so no row is changed twice.
func (s *Store) recordPG(ctx context.Context, db execer, now time.Time, attempts [][]any, streaks []streak, outs []hookgate.AttemptOutcome) error {
	var p pgStatement
	p.insert("attempts", attemptCols, attempts)
	var reset, start [][]any
	for _, st := range streaks {
		if st.reset {
			reset = append(reset, []any{st.webhookID, st.since})
		} else {
			start = append(start, []any{st.webhookID, st.since})
		}
	}
	if len(reset) > 0 {
		u := p.arrays([]string{"text", "bigint"}, reset)
		p.add(`UPDATE webhooks SET failing_since = v.since FROM ` + u + ` AS v(id, since) WHERE webhooks.id = v.id`)
	}
	if len(start) > 0 {
		u := p.arrays([]string{"text", "bigint"}, start)
		p.add(`UPDATE webhooks SET failing_since = v.since FROM ` + u + ` AS v(id, since) WHERE webhooks.id = v.id AND webhooks.failing_since = 0`)
	}
	moves := make([][]any, len(outs))
	for i, o := range outs {
		moves[i] = moveArgs(o)
	}
	u := p.arrays(moveTypes, moves)
	nowArg := p.param(micros(now))
	p.add(`UPDATE deliveries SET ` + moveSet("v.status", "v.made", "v.next", "v.code", "v.err", nowArg) + ` FROM ` + u +
		` AS v(project_id, id, status, made, next, code, err, lease)
		WHERE deliveries.project_id = v.project_id AND deliveries.id = v.id AND deliveries.lease_until = v.lease`)
	_, err := db.ExecContext(ctx, p.sql("SELECT 1"), p.args...)
	return err
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

// moveDeliveries applies outcomes to their deliveries on SQLite: in
// process, with one indexed UPDATE each (its planner may scan the whole
// table for an UPDATE … FROM). PostgreSQL has recordPG.
func (s *Store) moveDeliveries(ctx context.Context, tx *sql.Tx, now time.Time, outs []hookgate.AttemptOutcome) error {
	st, err := s.hotTx(ctx, tx, moveOneSQL)
	if err != nil {
		return err
	}
	for _, o := range outs {
		if _, err := st.ExecContext(ctx, append(moveArgs(o), micros(now))...); err != nil {
			return err
		}
	}
	return nil
}

// moveOneSQL applies one outcome to its delivery on SQLite.
var moveOneSQL = `UPDATE deliveries SET ` + moveSet("?3", "?4", "?5", "?6", "?7", "?9") +
	` WHERE project_id = ?1 AND id = ?2 AND lease_until = ?8`

// streakSQL changes a webhook's failure streak: with reset it sets
// failing_since, else it starts a streak unless one runs.
func streakSQL(reset bool) string {
	q := `UPDATE webhooks SET failing_since = ? WHERE id = ?`
	if !reset {
		q += ` AND failing_since = 0`
	}
	return q
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
