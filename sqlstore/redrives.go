package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/hookgate/hookgate"
)

const redriveCols = "project_id, id, state, selection, matched, requeued, error, started_at, finished_at, idempotency_key, body_hash"

func scanRedrive(r scanner) (*hookgate.Redrive, error) {
	var x hookgate.Redrive
	var sel string
	var started, finished int64
	if err := r.Scan(&x.ProjectID, &x.ID, &x.State, &sel, &x.Matched, &x.Requeued, &x.Error, &started, &finished,
		&x.IdempotencyKey, &x.BodyHash); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(sel), &x.Selection); err != nil {
		return nil, err
	}
	x.StartedAt, x.FinishedAt = fromMicros(started), fromMicros(finished)
	return &x, nil
}

// CreateRedrive stores r, running, leased until leaseUntil by its creator.
// When r has an idempotency key that the project used before, nothing is
// stored and the redrive that key created is returned, with created false;
// the caller compares its BodyHash.
func (s *Store) CreateRedrive(ctx context.Context, r *hookgate.Redrive, leaseUntil time.Time) (*hookgate.Redrive, bool, error) {
	if r.IdempotencyKey != "" {
		if got, err := s.findRedriveByKey(ctx, r.ProjectID, r.IdempotencyKey); err == nil {
			return got, false, nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return nil, false, err
		}
	}
	res, err := s.write.ExecContext(ctx, s.q(`INSERT INTO redrives (`+redriveCols+`, lease_until) VALUES (?, ?, ?, ?, 0, 0, '', ?, 0, ?, ?, ?)
		ON CONFLICT DO NOTHING`), r.ProjectID, r.ID, hookgate.RedriveRunning, jsonText(r.Selection), micros(r.StartedAt),
		r.IdempotencyKey, r.BodyHash, micros(leaseUntil))
	if err != nil {
		return nil, false, err
	}
	if n, _ := res.RowsAffected(); n == 0 && r.IdempotencyKey != "" {
		// Another request with the same key won the race.
		got, err := s.findRedriveByKey(ctx, r.ProjectID, r.IdempotencyKey)
		return got, false, err
	}
	got, err := s.FindRedrive(ctx, r.ProjectID, r.ID)
	return got, true, err
}

func (s *Store) findRedriveByKey(ctx context.Context, projectID, key string) (*hookgate.Redrive, error) {
	return scanRedrive(s.write.QueryRowContext(ctx, s.q(`SELECT `+redriveCols+` FROM redrives WHERE project_id = ? AND idempotency_key = ?`), projectID, key))
}

// FindRedrive finds a redrive; ENotFound.
func (s *Store) FindRedrive(ctx context.Context, projectID, id string) (*hookgate.Redrive, error) {
	x, err := scanRedrive(s.write.QueryRowContext(ctx, s.q(`SELECT `+redriveCols+` FROM redrives WHERE project_id = ? AND id = ?`), projectID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookgate.NotFound("redrive")
	}
	return x, err
}

// TakeOverRedrive leases a running redrive whose lease expired by now to
// the caller until leaseUntil, and reports whether it did: a redrive whose
// node died is taken over by the next node that serves it.
func (s *Store) TakeOverRedrive(ctx context.Context, projectID, id string, now, leaseUntil time.Time) (bool, error) {
	res, err := s.write.ExecContext(ctx, s.q(`UPDATE redrives SET lease_until = ? WHERE project_id = ? AND id = ? AND state = ? AND lease_until < ?`),
		micros(leaseUntil), projectID, id, hookgate.RedriveRunning, micros(now))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ExpiredRedrives lists, oldest first, at most limit running redrives whose
// lease expired by now: those whose node stopped, which any node may take
// over (TakeOverRedrive). Every node asks every RedrivePoll; the running
// redrives are few, and the query reads only them (see
// BenchmarkExpiredRedrives).
func (s *Store) ExpiredRedrives(ctx context.Context, now time.Time, limit int) ([]*hookgate.Redrive, error) {
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT `+redriveCols+` FROM redrives WHERE state = ? AND lease_until < ?
		ORDER BY started_at, id LIMIT ?`), hookgate.RedriveRunning, micros(now), limit)
	return scanAll(rows, err, scanRedrive)
}

// FailRedrive ends a running redrive as failed, with the error msg.
func (s *Store) FailRedrive(ctx context.Context, projectID, id, msg string, now time.Time) error {
	_, err := s.write.ExecContext(ctx, s.q(`UPDATE redrives SET state = ?, error = ?, finished_at = ? WHERE project_id = ? AND id = ? AND state = ?`),
		hookgate.RedriveFailed, msg, micros(now), projectID, id, hookgate.RedriveRunning)
	return err
}

// StepRedrive walks the next batch of a running redrive (at most
// hookgate.RedriveBatch deliveries after the last one walked) and, in one
// transaction, queues again, due now, those of them that are event
// deliveries, not pending, of an active webhook (and in the selection's
// status, for a filter), moves the redrive's cursor past them, adds to its
// counts and extends its lease to leaseUntil. The batch is read before the
// transaction, which stays short. It reports whether the redrive is over:
// finished, or no longer the caller's (another node took it over, or it
// ended).
func (s *Store) StepRedrive(ctx context.Context, projectID, id string, now, leaseUntil time.Time) (bool, error) {
	var state, sel, last string
	err := s.write.QueryRowContext(ctx, s.q(`SELECT state, selection, last_id FROM redrives WHERE project_id = ? AND id = ?`), projectID, id).Scan(&state, &sel, &last)
	if err != nil {
		return true, err
	}
	if state != hookgate.RedriveRunning {
		return true, nil
	}
	var f hookgate.RedriveSelection
	if err := json.Unmarshal([]byte(sel), &f); err != nil {
		return true, err
	}
	batch, err := s.redriveBatch(ctx, projectID, f, last)
	if err != nil {
		return true, err
	}
	done := len(batch) < hookgate.RedriveBatch
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var requeued int64
		if len(batch) > 0 {
			if err := s.lockOrdering(ctx, tx); err != nil {
				return err
			}
			if err := s.unarchive(ctx, tx, projectID, batch); err != nil {
				return err
			}
			// Ordered rows go in line behind the head of their key.
			q := `UPDATE deliveries SET status = ?, next_attempt_at = ` + requeueNext + `, lease_until = 0, updated_at = ?
				WHERE project_id = ? AND id IN (` + placeholders(len(batch)) + `) AND kind = ? AND status <> ?
				AND webhook_id IN (SELECT id FROM webhooks WHERE project_id = ? AND status = ?)`
			args := []any{hookgate.DeliveryPending, micros(now), micros(now), projectID}
			for _, b := range batch {
				args = append(args, b)
			}
			args = append(args, hookgate.KindEvent, hookgate.DeliveryPending, projectID, hookgate.StatusActive)
			if len(f.IDs) == 0 {
				q += ` AND status = ?`
				args = append(args, f.Status)
			}
			res, err := tx.ExecContext(ctx, s.q(q), args...)
			if err != nil {
				return err
			}
			requeued, _ = res.RowsAffected()
			if err := s.promoteFor(ctx, tx, projectID, batch, now); err != nil {
				return err
			}
		}
		matched := int64(len(batch))
		if len(f.IDs) > 0 && len(batch) > 0 {
			// Named IDs that are not the project's deliveries match nothing.
			args := []any{projectID}
			for _, b := range batch {
				args = append(args, b)
			}
			// The batch was brought back from its history above.
			if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM deliveries WHERE project_id = ? AND id IN (`+placeholders(len(batch))+`)`), args...).Scan(&matched); err != nil {
				return err
			}
		}
		next, state, finished := last, hookgate.RedriveRunning, int64(0)
		if len(batch) > 0 {
			next = batch[len(batch)-1]
		}
		if done {
			state, finished = hookgate.RedriveFinished, micros(now)
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE redrives SET last_id = ?, matched = matched + ?, requeued = requeued + ?, lease_until = ?,
			state = ?, finished_at = ? WHERE project_id = ? AND id = ? AND state = ? AND last_id = ?`),
			next, matched, requeued, micros(leaseUntil), state, finished, projectID, id, hookgate.RedriveRunning, last)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			// Another node walked this batch: undo ours.
			return errRedriveLost
		}
		return nil
	})
	if errors.Is(err, errRedriveLost) {
		return true, nil
	}
	return done, err
}

// errRedriveLost rolls back a redrive's step that another node took.
var errRedriveLost = errors.New("the redrive moved on meanwhile")

// redriveBatch reads the IDs of the next batch of f after the ID last, in
// ID order.
func (s *Store) redriveBatch(ctx context.Context, projectID string, f hookgate.RedriveSelection, last string) ([]string, error) {
	if len(f.IDs) > 0 {
		ids := slices.Clone(f.IDs)
		slices.Sort(ids)
		ids = slices.Compact(ids)
		i, _ := slices.BinarySearch(ids, last)
		if i < len(ids) && ids[i] == last {
			i++
		}
		ids = ids[i:]
		return ids[:min(len(ids), hookgate.RedriveBatch)], nil
	}
	q := `SELECT id FROM delivery_rows WHERE project_id = ? AND id > ? AND kind = ? AND status = ?`
	args := []any{projectID, last, hookgate.KindEvent, f.Status}
	q, args = deliveryFilter(q, args, f.WebhookID, f.EventType, f.Since, f.Until)
	q += ` ORDER BY id LIMIT ?`
	args = append(args, hookgate.RedriveBatch)
	rows, err := s.read.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// placeholders is n comma-separated question marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
