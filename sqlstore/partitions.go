package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"time"
)

// On PostgreSQL, attempts is partitioned by started_at (RANGE on the
// microseconds; migration 00031): one partition per UTC day, named
// attempts_dYYYYMMDD; attempts_legacy, the table as it was before the
// migration, for every start before the migration's cutover; and
// attempts_default for any start no other partition takes, so that an
// insert never fails for want of a day's partition. Retention drops a
// partition once all of it is older than the retention, instead of
// deleting its rows (Purge). SQLite keeps one table.

// partitionDaysAhead is how many days after today MaintainPartitions
// creates the attempts' partitions for, so that a node that stops running
// maintenance leaves a week before attempts land in the default partition.
const partitionDaysAhead = 7

// partitionLockTimeout bounds how long partition maintenance waits for a
// lock: a DDL statement waiting for a lock holds back every statement
// queued behind it, so maintenance gives up instead, until the next hour.
const partitionLockTimeout = "2s"

// dayMicros is one day in microseconds.
const dayMicros = int64(24 * time.Hour / time.Microsecond)

// legacyPartition is attempts as it was before migration 00031.
const legacyPartition = "attempts_legacy"

// partition is one partition of attempts and its range of started_at,
// [lo, hi); lo is math.MinInt64 for MINVALUE.
type partition = rangePartition[int64]

// rangePartition is one partition of a table partitioned by range, and its
// range [lo, hi) of the partition key: microseconds (attempts) or IDs (the
// history tables). A default partition has no range.
type rangePartition[K int64 | string] struct {
	name      string
	lo, hi    K
	isDefault bool
}

// partitionBound reads pg_get_expr's text of a range partition's bounds.
var partitionBound = regexp.MustCompile(`^FOR VALUES FROM \('?(MINVALUE|-?\d+)'?\) TO \('?(MAXVALUE|-?\d+)'?\)$`)

// attemptPartitions lists the partitions of attempts in the store's schema.
func attemptPartitions(ctx context.Context, q querier) ([]partition, error) {
	return partitionsOf(ctx, q, "attempts", partitionBound, func(lo, hi string) (int64, int64) {
		l, h := int64(math.MinInt64), int64(math.MaxInt64)
		if lo != "MINVALUE" {
			l, _ = strconv.ParseInt(lo, 10, 64)
		}
		if hi != "MAXVALUE" {
			h, _ = strconv.ParseInt(hi, 10, 64)
		}
		return l, h
	})
}

// querier runs a query: a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

// partitionsOf lists the partitions of table in the store's schema: bound
// reads pg_get_expr's text of a range partition's bounds into the lower
// and upper bound's text, which parse turns into keys.
func partitionsOf[K int64 | string](ctx context.Context, q querier, table string, bound *regexp.Regexp, parse func(lo, hi string) (K, K)) ([]rangePartition[K], error) {
	rows, err := q.QueryContext(ctx, `SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY c.relname`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []rangePartition[K]
	for rows.Next() {
		var p rangePartition[K]
		var text string
		if err := rows.Scan(&p.name, &text); err != nil {
			return nil, err
		}
		if text == "DEFAULT" {
			p.isDefault = true
			out = append(out, p)
			continue
		}
		m := bound.FindStringSubmatch(text)
		if m == nil {
			return nil, fmt.Errorf("sqlstore: partition %s: unknown bound %q", p.name, text)
		}
		p.lo, p.hi = parse(m[1], m[2])
		out = append(out, p)
	}
	return out, rows.Err()
}

// dayPartition is the name of the partition of the UTC day starting at lo.
func dayPartition(lo int64) string {
	return "attempts_d" + time.UnixMicro(lo).UTC().Format("20060102")
}

// MaintainPartitions creates, on PostgreSQL, the attempts' partitions of
// the UTC days from now's to partitionDaysAhead days later, and those of
// the history tables of now's UTC month and the next (maintainHistory),
// that no partition covers yet; it does nothing on SQLite. Every node runs
// it, at start (Migrate) and hourly (Purge): callers take turns on a
// transaction advisory lock, and each creates only what it finds missing.
// Rows that landed in a default partition, for want of their partition,
// are moved into the partition made for them.
func (s *Store) MaintainPartitions(ctx context.Context, now time.Time) error {
	if s.engine != EnginePostgres {
		return nil
	}
	today := micros(now.UTC().Truncate(24 * time.Hour))
	var made []string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// The turn first, without a bound: the node ahead holds it no
		// longer than its own DDL's lock timeouts allow.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('hookgate-partitions:' || current_database() || '.' || current_schema(), 0))`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `SET LOCAL lock_timeout = '`+partitionLockTimeout+`'`); err != nil {
			return err
		}
		parts, err := attemptPartitions(ctx, tx)
		if err != nil {
			return err
		}
		for d := int64(0); d <= partitionDaysAhead; d++ {
			lo := today + d*dayMicros
			hi := lo + dayMicros
			if covered(parts, lo, hi) {
				continue
			}
			if err := createDayPartition(ctx, tx, lo, hi); err != nil {
				return fmt.Errorf("sqlstore: partition %s: %w", dayPartition(lo), err)
			}
			made = append(made, dayPartition(lo))
		}
		months, err := maintainHistory(ctx, tx, now)
		made = append(made, months...)
		return err
	})
	if err == nil && len(made) > 0 {
		s.log.Info("created partitions", "tables", made)
	}
	return err
}

// covered reports whether a range partition in parts overlaps [lo, hi).
func covered[K int64 | string](parts []rangePartition[K], lo, hi K) bool {
	for _, p := range parts {
		if !p.isDefault && p.lo < hi && lo < p.hi {
			return true
		}
	}
	return false
}

// createDayPartition makes the attempts' partition of [lo, hi), the UTC day
// starting at lo (see createPartition).
func createDayPartition(ctx context.Context, tx *sql.Tx, lo, hi int64) error {
	return createPartition(ctx, tx, "attempts", dayPartition(lo), "started_at", "id", strconv.FormatInt(lo, 10), strconv.FormatInt(hi, 10))
}

// createPartition makes name, the partition of parent for the values of
// key in [lo, hi) (SQL literals), with the primary key pk: as a table of
// its own, into which it moves the rows of that range in parent's default
// partition (parent_default; creating it as a partition outright would
// fail on them), and then attaches it: ATTACH takes SHARE UPDATE EXCLUSIVE
// on parent, where CREATE … PARTITION OF takes ACCESS EXCLUSIVE, so writes
// and reads of parent go on meanwhile.
func createPartition(ctx context.Context, tx *sql.Tx, parent, name, key, pk, lo, hi string) error {
	inRange := fmt.Sprintf(`%s >= %s AND %s < %s`, key, lo, key, hi)
	stmts := []string{
		fmt.Sprintf(`CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS, PRIMARY KEY (%s), CHECK (%s))`, name, parent, pk, inRange),
		fmt.Sprintf(`WITH moved AS (DELETE FROM %s_default WHERE %s RETURNING *) INSERT INTO %s SELECT * FROM moved`, parent, inRange, name),
		fmt.Sprintf(`ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)`, parent, name, lo, hi),
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// dropPartitions drops, on PostgreSQL, the attempts' range partitions
// wholly older than before (the legacy one included, once its cutover is),
// each in a transaction of its own. DROP takes ACCESS EXCLUSIVE on attempts
// for a moment; one that cannot have it within partitionLockTimeout is
// left for the next purge. It returns the partitions that hold rows older
// than before and are kept: those the chunked DELETE still purges.
func (s *Store) dropPartitions(ctx context.Context, before int64) ([]string, error) {
	parts, err := attemptPartitions(ctx, s.write)
	if err != nil {
		return nil, err
	}
	var keep []string
	for _, p := range parts {
		switch {
		case p.isDefault:
			keep = append(keep, p.name)
		case p.hi <= before:
			err := s.tx(ctx, func(tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, `SET LOCAL lock_timeout = '`+partitionLockTimeout+`'`); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+p.name)
				return err
			})
			if err != nil {
				s.log.Warn("drop attempts partition: left for the next purge", "table", p.name, "err", err)
				continue
			}
			s.log.Info("dropped attempts partition", "table", p.name)
		case p.name == legacyPartition && p.lo < before:
			// Not one day: its rows are deleted as they age, until all of
			// it is older than before.
			keep = append(keep, p.name)
		}
	}
	return keep, nil
}
