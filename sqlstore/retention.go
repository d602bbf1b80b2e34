package sqlstore

import (
	"context"
	"time"

	"github.com/hookgate/hookgate"
)

// purgeChunk bounds the rows one purge statement touches, so that purging
// never holds the writer for long.
const purgeChunk = 5000

// purgeStep is one statement of Purge, run until it changes fewer than
// purgeChunk rows.
type purgeStep struct {
	query string
	args  []any
}

// Purge removes what is older than before: attempts, expired idempotency
// keys, the payload (data) of events whose deliveries are all finished, and
// the input kept with triggers.
// Events and deliveries themselves stay, for audit; on PostgreSQL, finished
// deliveries and events whose data is purged move to their history tables
// a day after their creation (archive), counted among the rows changed.
// It is idempotent and safe to run on many nodes at once. It returns how
// many rows it changed, not counting those of the partitions it dropped.
//
// On PostgreSQL it first maintains the attempts' partitions
// (MaintainPartitions), then drops those wholly older than before and
// deletes old attempts only from the partitions that are not one day's
// (the legacy and the default ones): a day's attempts go when the whole
// day is older than before, up to a day after they would go on SQLite.
func (s *Store) Purge(ctx context.Context, before, now time.Time) (int64, error) {
	b, n := micros(before), micros(now)
	// The tables whose old attempts are deleted row by row.
	tables := []string{"attempts"}
	if s.engine == EnginePostgres {
		if err := s.MaintainPartitions(ctx, now); err != nil {
			s.log.Warn("maintain partitions: tried again at the next purge", "err", err)
		}
		var err error
		if tables, err = s.dropPartitions(ctx, b); err != nil {
			return 0, err
		}
	}
	var steps []purgeStep
	for _, t := range tables {
		steps = append(steps, purgeStep{`DELETE FROM ` + t + ` WHERE id IN (SELECT id FROM ` + t + ` WHERE started_at < ? LIMIT ?)`, []any{b, purgeChunk}})
	}
	steps = append(steps, []purgeStep{
		{`DELETE FROM idempotency_keys WHERE (project_id, key) IN (SELECT project_id, key FROM idempotency_keys WHERE expires_at < ? LIMIT ?)`, []any{n, purgeChunk}},
		{`UPDATE events SET data = 'null' WHERE (project_id, id) IN (SELECT e.project_id, e.id FROM events e
			WHERE e.created_at < ? AND e.data <> 'null' AND NOT EXISTS (SELECT 1 FROM deliveries d
				WHERE d.project_id = e.project_id AND d.event_id = e.id AND d.status IN (?, ?)) LIMIT ?)`,
			[]any{b, hookgate.DeliveryPending, hookgate.DeliveryPaused, purgeChunk}},
		// A trigger's input, kept for a retry by hand, is its payload.
		{`UPDATE deliveries SET request = '' WHERE (project_id, id) IN (SELECT project_id, id FROM deliveries
			WHERE request <> '' AND created_at < ? LIMIT ?)`, []any{b, purgeChunk}},
		// Rollups of hours whose attempts are purged.
		{`DELETE FROM attempt_hours WHERE (webhook_id, hour, duration_ms) IN (SELECT webhook_id, hour, duration_ms FROM attempt_hours WHERE hour < ? LIMIT ?)`, []any{b, purgeChunk}},
		// Dashboard sessions that expired.
		{`DELETE FROM ui_sessions WHERE id IN (SELECT id FROM ui_sessions WHERE expires_at <= ? LIMIT ?)`, []any{n, purgeChunk}},
	}...)
	var total int64
	for _, st := range steps {
		for {
			res, err := s.write.ExecContext(ctx, s.q(st.query), st.args...)
			if err != nil {
				return total, err
			}
			k, _ := res.RowsAffected()
			total += k
			if k < purgeChunk {
				break
			}
		}
	}
	// Finished deliveries, and events whose data is purged, of more than a
	// day ago move to their history (PostgreSQL; history.go).
	moved, err := s.archive(ctx, now)
	if moved > 0 {
		s.log.Info("moved finished deliveries and purged events to their history", "rows", moved)
	}
	return total + moved, err
}
