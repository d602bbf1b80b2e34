package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hookgate/hookgate"
)

// The recovery of a webhook Hookgate disabled is a row of its own table,
// webhook_recovery, present while the webhook is disabled: moving its
// next probe does not touch the webhooks row, so the webhooks that nodes
// cache (cache.go) are not dropped at each probe.

const recoveryCols = "webhook_id, project_id, disabled_at, next_probe_at, ends_at, probes, last_probe_at, last_status_code, last_error, stopped"

func scanRecovery(r scanner) (*hookgate.Recovery, error) {
	var x hookgate.Recovery
	var disabled, next, ends, last int64
	if err := r.Scan(&x.WebhookID, &x.ProjectID, &disabled, &next, &ends, &x.Probes, &last, &x.LastStatusCode, &x.LastError, &x.Stopped); err != nil {
		return nil, err
	}
	x.DisabledAt, x.NextProbeAt, x.EndsAt, x.LastProbeAt = fromMicros(disabled), fromMicros(next), fromMicros(ends), fromMicros(last)
	return &x, nil
}

// nullBool stores an optional setting: NULL, 0 or 1.
func nullBool(b *bool) any {
	if b == nil {
		return nil
	}
	return boolInt(*b)
}

// boolOf reads what nullBool stored.
func boolOf(v sql.NullInt64) *bool {
	if !v.Valid {
		return nil
	}
	b := v.Int64 != 0
	return &b
}

// startOrEndRecovery, in the transaction that sets a webhook's status,
// starts its recovery when status is disabled (a webhook that has one
// already keeps it: a late 410 does not start the schedule again), and
// ends it for any other status, or when the webhook is deleted (status
// "").
func (s *Store) startOrEndRecovery(ctx context.Context, tx *sql.Tx, projectID, id, status string, now time.Time) error {
	if status == hookgate.StatusDisabled {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO webhook_recovery (webhook_id, project_id, disabled_at) VALUES (?, ?, ?)
			ON CONFLICT (webhook_id) DO NOTHING`), id, projectID, micros(now))
		return err
	}
	_, err := tx.ExecContext(ctx, s.q(`DELETE FROM webhook_recovery WHERE project_id = ? AND webhook_id = ?`), projectID, id)
	return err
}

// FindRecoveries returns the recoveries of the webhooks named by ids that
// have one.
func (s *Store) FindRecoveries(ctx context.Context, projectID string, ids []string) (map[string]*hookgate.Recovery, error) {
	out := map[string]*hookgate.Recovery{}
	if len(ids) == 0 {
		return out, nil
	}
	args := []any{projectID}
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT `+recoveryCols+` FROM webhook_recovery WHERE project_id = ? AND webhook_id IN (`+placeholders(len(ids))+`)`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRecovery(rows)
		if err != nil {
			return nil, err
		}
		out[r.WebhookID] = r
	}
	return out, rows.Err()
}

// DueRecoveries schedules the recoveries not yet scheduled, then reads
// those due. Any node may schedule a recovery: the statement only sets
// rows still at 0, so the first node's schedule stands.
func (s *Store) DueRecoveries(ctx context.Context, now time.Time, first, window time.Duration, limit int) ([]*hookgate.Recovery, error) {
	if _, err := s.write.ExecContext(ctx, s.q(`UPDATE webhook_recovery SET next_probe_at = disabled_at + ?, ends_at = disabled_at + ?
		WHERE next_probe_at = 0`), first.Microseconds(), window.Microseconds()); err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT r.webhook_id, r.project_id, r.disabled_at, r.next_probe_at, r.ends_at, r.probes,
			r.last_probe_at, r.last_status_code, r.last_error, r.stopped
		FROM webhook_recovery r JOIN webhooks w ON w.id = r.webhook_id JOIN projects p ON p.id = r.project_id
		WHERE r.next_probe_at > 0 AND r.next_probe_at <= ? AND r.next_probe_at <= r.ends_at AND r.ends_at >= ? AND r.stopped = ''
			AND w.status = ? AND COALESCE(w.auto_recover, p.auto_recover, 1) = 1
		ORDER BY r.next_probe_at LIMIT ?`), micros(now), micros(now), hookgate.StatusDisabled, limit)
	return scanAll(rows, err, scanRecovery)
}

// ClaimProbe moves r's next probe from the time read to next, counting
// the probe: of nodes that read the same step, one alone succeeds.
func (s *Store) ClaimProbe(ctx context.Context, r *hookgate.Recovery, next, now time.Time) (bool, error) {
	res, err := s.write.ExecContext(ctx, s.q(`UPDATE webhook_recovery SET next_probe_at = ?, probes = probes + 1, last_probe_at = ?
		WHERE project_id = ? AND webhook_id = ? AND next_probe_at = ? AND stopped = ''`),
		micros(next), micros(now), r.ProjectID, r.WebhookID, micros(r.NextProbeAt))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SaveProbe records a probe's event, delivery and attempt, and its answer
// on the recovery, in one transaction. The event is direct (for the
// probed webhook alone), so a recover of other webhooks never takes it.
func (s *Store) SaveProbe(ctx context.Context, e *hookgate.Event, d *hookgate.Delivery, a *hookgate.Attempt) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO events (`+eventCols+`, direct_webhook) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			e.ID, e.ProjectID, e.Type, string(e.Data), "", 1, micros(e.CreatedAt), e.Trace.Traceparent(), e.Trace.State, d.WebhookID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO deliveries (`+deliveryCols+`, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			d.ID, d.ProjectID, e.ID, d.WebhookID, e.Type, d.Status, d.Attempts, 0, 0, d.LastStatusCode, d.LastError,
			micros(d.CreatedAt), micros(d.UpdatedAt), hookgate.KindProbe); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO attempts (`+attemptCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			attemptRow(d.ProjectID, d.WebhookID, a)...); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`UPDATE webhook_recovery SET last_status_code = ?, last_error = ? WHERE project_id = ? AND webhook_id = ?`),
			a.StatusCode, a.Error, d.ProjectID, d.WebhookID)
		return err
	})
}

// StopRecovery ends a webhook's probing for reason.
func (s *Store) StopRecovery(ctx context.Context, projectID, webhookID, reason string) error {
	_, err := s.write.ExecContext(ctx, s.q(`UPDATE webhook_recovery SET stopped = ? WHERE project_id = ? AND webhook_id = ?`), reason, projectID, webhookID)
	return err
}

// EnableRecovered activates a webhook that is still disabled, by the path
// SetWebhookStatus takes, in one transaction.
func (s *Store) EnableRecovered(ctx context.Context, projectID, webhookID string, now time.Time) (*hookgate.Webhook, int, time.Time, error) {
	defer s.webhooksChanged(ctx)
	var w *hookgate.Webhook
	var requeued int64
	var disabledAt time.Time
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var at int64
		err := tx.QueryRowContext(ctx, s.q(`SELECT disabled_at FROM webhook_recovery WHERE project_id = ? AND webhook_id = ?`), projectID, webhookID).Scan(&at)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		disabledAt = fromMicros(at)
		requeued, err = s.setWebhookStatus(ctx, tx, projectID, webhookID, hookgate.StatusDisabled, hookgate.StatusActive, now)
		var he *hookgate.Error
		if errors.As(err, &he) && he.Code == hookgate.ENotFound {
			return &hookgate.Error{Code: hookgate.EConflict, Message: "the webhook is no longer disabled"}
		}
		if err != nil {
			return err
		}
		w, err = s.findWebhook(ctx, tx, projectID, webhookID)
		return err
	})
	return w, int(requeued), disabledAt, err
}
