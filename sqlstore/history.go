package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/hookgate/hookgate"
)

// On PostgreSQL, a finished event delivery (succeeded, failed or cancelled)
// moves out of deliveries into deliveries_history once created more than
// historyAfter ago, and an event whose data retention purged moves into
// events_history once as old (migration 00032; Purge moves them). Each
// history table is partitioned by ID, one partition per UTC month
// (deliveries_history_mYYYYMM, events_history_mYYYYMM; the bounds are the
// IDFloor of the month's first instant and the next month's: IDs begin
// with their event's time), and a default partition takes the rows of
// months without one. The hot tables that ingest, claims and outcomes
// write so hold about a day of rows and what is still pending, however
// long deliveries and events are kept; partitioning them instead made
// every claim and outcome statement pay for each partition
// (docs/performance.md).
//
// Reads by ID and lists go through the views delivery_rows and event_rows
// (both tables). A write that can make a finished delivery pending again
// (a retry, a redrive, a webhook's recovery) first moves it back
// (unarchive); its event, if it moved, is read from events_history when
// the delivery is sent. Triggers and recovery probes never move. SQLite
// keeps every delivery and event in deliveries and events, and the views
// are those tables.

// historyAfter is how long after its creation a finished event delivery
// stays in the hot table.
const historyAfter = 24 * time.Hour

// historyStatuses are the statuses of deliveries that move: finished ones.
var historyStatuses = []any{hookgate.DeliverySucceeded, hookgate.DeliveryFailed, hookgate.DeliveryCancelled}

// textBound reads pg_get_expr's text of a range partition's bounds on a
// text column (IDs hold no quote).
var textBound = regexp.MustCompile(`^FOR VALUES FROM \('([^']*)'\) TO \('([^']*)'\)$`)

// historyPartitions lists the partitions of table (deliveries_history or
// events_history).
func historyPartitions(ctx context.Context, q querier, table string) ([]rangePartition[string], error) {
	return partitionsOf(ctx, q, table, textBound, func(lo, hi string) (string, string) { return lo, hi })
}

// monthStart is the first instant of t's UTC month.
func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// histories are the partitioned history tables, each with the prefix of
// the IDs it holds.
var histories = []struct{ table, prefix string }{
	{"deliveries_history", hookgate.PrefixDelivery},
	{"events_history", hookgate.PrefixEvent},
}

// maintainHistory creates, in tx (which holds the partitions' advisory
// lock), the partitions of deliveries_history and events_history of now's
// UTC month and the next that no partition covers yet, and returns their
// names. Rows of those months in a default partition move into the
// partition made for them.
func maintainHistory(ctx context.Context, tx *sql.Tx, now time.Time) ([]string, error) {
	var made []string
	for _, h := range histories {
		parts, err := historyPartitions(ctx, tx, h.table)
		if err != nil {
			return made, err
		}
		for m := monthStart(now); m.Before(monthStart(now).AddDate(0, 2, 0)); m = m.AddDate(0, 1, 0) {
			lo, hi := hookgate.IDFloor(h.prefix, m), hookgate.IDFloor(h.prefix, m.AddDate(0, 1, 0))
			if covered(parts, lo, hi) {
				continue
			}
			name := h.table + "_m" + m.Format("200601")
			if err := createPartition(ctx, tx, h.table, name, "id", "project_id, id", "'"+lo+"'", "'"+hi+"'"); err != nil {
				return made, fmt.Errorf("sqlstore: partition %s: %w", name, err)
			}
			made = append(made, name)
		}
	}
	return made, nil
}

// archive moves, on PostgreSQL, into their history tables the finished
// event deliveries created more than historyAfter before now, and the
// events as old whose data retention purged (Purge does that when none of
// their deliveries is pending or paused), at most purgeChunk rows a
// statement, one project at a time. It returns how many rows it moved. A
// row a retry or redrive has locked is skipped until the next purge; a
// delivery made pending meanwhile does not move. An event moved while a
// delivery of it was queued again is read from its history when sent
// (FindEventsForDelivery).
func (s *Store) archive(ctx context.Context, now time.Time) (int64, error) {
	if s.engine != EnginePostgres {
		return 0, nil
	}
	rows, err := s.write.QueryContext(ctx, `SELECT id FROM projects ORDER BY id`)
	projects, err := scanAll(rows, err, func(r scanner) (id string, err error) { return id, r.Scan(&id) })
	if err != nil {
		return 0, err
	}
	// Each move's conditions are on the DELETE too: a row the sub-select
	// chose that changed before the DELETE reached it stays.
	moves := []struct {
		table, where string
		args         []any
	}{
		{"deliveries", `project_id = ? AND id < ? AND kind = ? AND status IN (?, ?, ?)`,
			append([]any{hookgate.IDFloor(hookgate.PrefixDelivery, now.Add(-historyAfter)), hookgate.KindEvent}, historyStatuses...)},
		{"events", `project_id = ? AND id < ? AND data = 'null'`,
			[]any{hookgate.IDFloor(hookgate.PrefixEvent, now.Add(-historyAfter))}},
	}
	var total int64
	for _, m := range moves {
		q := s.q(`WITH moved AS (DELETE FROM ` + m.table + ` WHERE ` + m.where + ` AND id IN (SELECT id FROM ` + m.table + ` WHERE ` + m.where + `
			ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING *) INSERT INTO ` + m.table + `_history SELECT * FROM moved`)
		for _, p := range projects {
			args := append([]any{p}, m.args...)
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
	}
	return total, nil
}

// unarchive moves, on PostgreSQL, the named deliveries of a project back
// from deliveries_history into deliveries, in tx, so that a write that
// makes them pending again finds them there (see bringBack).
func (s *Store) unarchive(ctx context.Context, tx *sql.Tx, projectID string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return s.bringBack(ctx, tx, `project_id = ? AND id = ANY(?)`, projectID, ids)
}

// unarchiveFailed is unarchive for a webhook's failed event deliveries
// created at or after since (RecoverWebhook queues them again).
func (s *Store) unarchiveFailed(ctx context.Context, tx *sql.Tx, webhookID string, since int64) error {
	return s.bringBack(ctx, tx, `webhook_id = ? AND status = ? AND kind = ? AND created_at >= ?`, webhookID, hookgate.DeliveryFailed, hookgate.KindEvent, since)
}

// bringBack, on PostgreSQL, locks the rows of deliveries that match where,
// then moves those of deliveries_history that match it into deliveries.
// The lock comes first so that a purge does not move a row away before tx
// writes it (the purge skips locked rows); a row the purge was moving
// meanwhile is waited for, and then brought back from the history.
func (s *Store) bringBack(ctx context.Context, tx *sql.Tx, where string, args ...any) error {
	if s.engine != EnginePostgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, s.q(`SELECT 1 FROM deliveries WHERE `+where+` FOR UPDATE`), args...); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, s.q(`WITH back AS (DELETE FROM deliveries_history WHERE `+where+` RETURNING *)
		INSERT INTO deliveries SELECT * FROM back`), args...)
	return err
}

// readHot reads one row of table (deliveries or events) by ID, with cols.
// On PostgreSQL it reads the hot table first, then its history: a read
// through the view (table's rows view) probes every history partition, and
// costs about twice as much (docs/performance.md). A row moved back from
// its history between the two reads is found by a last read through the
// view, which sees both tables at one instant; only a missing row pays for
// it.
func readHot[T any](ctx context.Context, s *Store, table, cols string, scan func(scanner) (T, error), projectID, id string) (T, error) {
	where := ` WHERE project_id = ? AND id = ?`
	v, err := scan(s.read.QueryRowContext(ctx, s.q(`SELECT `+cols+` FROM `+table+where), projectID, id))
	if !errors.Is(err, sql.ErrNoRows) || s.engine != EnginePostgres {
		return v, err
	}
	v, err = scan(s.read.QueryRowContext(ctx, s.q(`SELECT `+cols+` FROM `+table+`_history`+where), projectID, id))
	if !errors.Is(err, sql.ErrNoRows) {
		return v, err
	}
	return scan(s.read.QueryRowContext(ctx, s.q(`SELECT `+cols+` FROM `+rowsView[table]+where), projectID, id))
}

// rowsView names the view of each table with its history.
var rowsView = map[string]string{"deliveries": "delivery_rows", "events": "event_rows"}
