package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"time"

	"github.com/hookgate/hookgate"
)

// On PostgreSQL, a finished event delivery (succeeded, failed or cancelled)
// moves out of deliveries into deliveries_history once created more than
// historyAfter ago (migration 00032; Purge moves them). deliveries_history
// is partitioned by ID, one partition per UTC month (deliveries_history_mYYYYMM,
// its bounds the IDFloor of the month's first and the next month's first
// instant: a delivery's ID begins with its event's time), and
// deliveries_history_default takes the rows of months without a partition.
// The hot table that ingest, claims and outcomes write so holds about a day
// of rows and what is still pending, however long deliveries are kept;
// partitioning it instead made every claim and outcome statement pay for
// each partition (docs/performance.md).
//
// Reads by ID and lists go through the view delivery_rows (both tables).
// A write that can make a finished delivery pending again (a retry, a
// redrive, a webhook's recovery) first moves it back (unarchive). Triggers
// and recovery probes never move. SQLite keeps every delivery in
// deliveries, and delivery_rows is that table.

// historyAfter is how long after its creation a finished event delivery
// stays in the hot table.
const historyAfter = 24 * time.Hour

const historyDefault = "deliveries_history_default"

// historyStatuses are the statuses of deliveries that move: finished ones.
var historyStatuses = []any{hookgate.DeliverySucceeded, hookgate.DeliveryFailed, hookgate.DeliveryCancelled}

// textPartition is one partition of deliveries_history and its range of
// IDs, [lo, hi).
type textPartition struct {
	name      string
	lo, hi    string
	isDefault bool
}

// textBound reads pg_get_expr's text of a range partition's bounds on a
// text column (IDs hold no quote).
var textBound = regexp.MustCompile(`^FOR VALUES FROM \('([^']*)'\) TO \('([^']*)'\)$`)

// historyPartitions lists the partitions of deliveries_history.
func historyPartitions(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) ([]textPartition, error) {
	rows, err := q.QueryContext(ctx, `SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'deliveries_history'::regclass ORDER BY c.relname`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []textPartition
	for rows.Next() {
		var p textPartition
		var bound string
		if err := rows.Scan(&p.name, &bound); err != nil {
			return nil, err
		}
		if bound == "DEFAULT" {
			p.isDefault = true
			out = append(out, p)
			continue
		}
		m := textBound.FindStringSubmatch(bound)
		if m == nil {
			return nil, fmt.Errorf("sqlstore: partition %s: unknown bound %q", p.name, bound)
		}
		p.lo, p.hi = m[1], m[2]
		out = append(out, p)
	}
	return out, rows.Err()
}

// monthStart is the first instant of t's UTC month.
func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// maintainHistory creates, in tx (which holds the partitions' advisory
// lock), the partitions of deliveries_history of now's UTC month and the
// next that no partition covers yet, and returns their names. Rows of
// those months in the default partition move into the partition made for
// them.
func maintainHistory(ctx context.Context, tx *sql.Tx, now time.Time) ([]string, error) {
	parts, err := historyPartitions(ctx, tx)
	if err != nil {
		return nil, err
	}
	var made []string
	for m := monthStart(now); m.Before(monthStart(now).AddDate(0, 2, 0)); m = m.AddDate(0, 1, 0) {
		lo, hi := hookgate.IDFloor(hookgate.PrefixDelivery, m), hookgate.IDFloor(hookgate.PrefixDelivery, m.AddDate(0, 1, 0))
		if textCovered(parts, lo, hi) {
			continue
		}
		name := "deliveries_history_m" + m.Format("200601")
		// As createDayPartition: a table of its own, the default's rows of
		// its range, then ATTACH, which does not stop reads or moves.
		stmts := []string{
			fmt.Sprintf(`CREATE TABLE %s (LIKE deliveries_history INCLUDING DEFAULTS, PRIMARY KEY (project_id, id), CHECK (id >= '%s' AND id < '%s'))`, name, lo, hi),
			fmt.Sprintf(`CREATE INDEX %s_webhook ON %s (webhook_id, status)`, name, name),
			fmt.Sprintf(`WITH moved AS (DELETE FROM %s WHERE id >= '%s' AND id < '%s' RETURNING *) INSERT INTO %s SELECT * FROM moved`, historyDefault, lo, hi, name),
			fmt.Sprintf(`ALTER TABLE deliveries_history ATTACH PARTITION %s FOR VALUES FROM ('%s') TO ('%s')`, name, lo, hi),
		}
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return made, fmt.Errorf("sqlstore: partition %s: %w", name, err)
			}
		}
		made = append(made, name)
	}
	return made, nil
}

// textCovered reports whether a range partition in parts overlaps [lo, hi).
func textCovered(parts []textPartition, lo, hi string) bool {
	for _, p := range parts {
		if !p.isDefault && p.lo < hi && lo < p.hi {
			return true
		}
	}
	return false
}

// archiveDeliveries moves, on PostgreSQL, the finished event deliveries
// created more than historyAfter before now into deliveries_history, at
// most purgeChunk rows a statement, one project at a time, and returns how
// many it moved. A row a retry or redrive has locked is skipped until the
// next purge; one made pending meanwhile does not move.
func (s *Store) archiveDeliveries(ctx context.Context, now time.Time) (int64, error) {
	if s.engine != EnginePostgres {
		return 0, nil
	}
	cut := hookgate.IDFloor(hookgate.PrefixDelivery, now.Add(-historyAfter))
	var projects []string
	rows, err := s.write.QueryContext(ctx, `SELECT id FROM projects ORDER BY id`)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		projects = append(projects, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	// The conditions are on the DELETE too: a row the sub-select chose
	// that became pending before the DELETE reached it stays.
	const finished = `project_id = ? AND id < ? AND kind = ? AND status IN (?, ?, ?)`
	q := s.q(`WITH moved AS (DELETE FROM deliveries WHERE ` + finished + ` AND id IN (SELECT id FROM deliveries WHERE ` + finished + `
		ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING *) INSERT INTO deliveries_history SELECT * FROM moved`)
	var total int64
	for _, p := range projects {
		args := append([]any{p, cut, hookgate.KindEvent}, historyStatuses...)
		args = append(append(args, args...), purgeChunk)
		for {
			res, err := s.write.ExecContext(ctx, q, args...)
			if err != nil {
				return total, err
			}
			n, _ := res.RowsAffected()
			total += n
			if n < purgeChunk {
				break
			}
		}
	}
	return total, nil
}

// unarchive moves, on PostgreSQL, the named deliveries of a project back
// from deliveries_history into deliveries, in tx, so that a write that
// makes them pending again finds them there.
func (s *Store) unarchive(ctx context.Context, tx *sql.Tx, projectID string, ids []string) error {
	if s.engine != EnginePostgres || len(ids) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, s.q(`WITH back AS (DELETE FROM deliveries_history WHERE project_id = ? AND id = ANY(?) RETURNING *)
		INSERT INTO deliveries SELECT * FROM back`), projectID, ids)
	return err
}

// unarchiveFailed moves, on PostgreSQL, a webhook's failed event deliveries
// created at or after since back into deliveries, in tx (RecoverWebhook
// queues them again).
func (s *Store) unarchiveFailed(ctx context.Context, tx *sql.Tx, webhookID string, since int64) error {
	if s.engine != EnginePostgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, s.q(`WITH back AS (DELETE FROM deliveries_history WHERE webhook_id = ? AND status = ? AND kind = ? AND created_at >= ? RETURNING *)
		INSERT INTO deliveries SELECT * FROM back`), webhookID, hookgate.DeliveryFailed, hookgate.KindEvent, since)
	return err
}
