package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/hookgate/hookgate"
)

// rollupAfter is how long after its end an hour of attempts is final and
// may be rolled up: longer than any attempt takes to be recorded.
const rollupAfter = time.Hour

// hourMicros is an hour in the store's time unit.
const hourMicros = int64(time.Hour / time.Microsecond)

// span is a range of start times, [from, to), in micros.
type span struct{ from, to int64 }

// tally is what the stats sum up; hist is by duration.
type tally struct {
	hist                     map[int64]int
	attempts, ok, c4, c5, c0 int
	lastOK                   int64
}

func (t *tally) add(ms int64, count, ok, c4, c5, c0, last int64) {
	t.hist[ms] += int(count)
	t.attempts += int(count)
	t.ok += int(ok)
	t.c4 += int(c4)
	t.c5 += int(c5)
	t.c0 += int(c0)
	t.lastOK = max(t.lastOK, last)
}

// AttemptStats sums up the attempts of a webhook (webhookID) or of the
// project's webhooks (webhookID "") started in [since, until).
//
// The whole hours of the window that are final come from hourly rollups
// (attempt_hours), made on the first read that covers them; the rest, at
// most an hour and a bit at each end, from range scans of the covering
// index attempts_webhook_time, one per webhook, grouped by duration. The
// project's webhooks are read first and named in the queries, so that both
// engines plan one range scan per webhook (PostgreSQL, given a subquery,
// hashed the whole table). Attempts of deleted webhooks no longer count.
func (s *Store) AttemptStats(ctx context.Context, projectID, webhookID string, since, until time.Time, interval time.Duration) (*hookgate.AttemptStats, error) {
	st := &hookgate.AttemptStats{Since: since, Until: until}
	ids, err := s.statsWebhooks(ctx, projectID, webhookID)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		if webhookID != "" {
			return nil, hookgate.NotFound("webhook")
		}
		return st, nil
	}
	scope := `webhook_id IN (?` + strings.Repeat(`, ?`, len(ids)-1) + `)`
	idArgs := make([]any, len(ids))
	for i, id := range ids {
		idArgs[i] = id
	}
	from, to := micros(since), micros(until)
	// The final whole hours: [h1, h2).
	h1 := (from + hourMicros - 1) / hourMicros * hourMicros
	h2 := min(to, micros(s.now().Add(-rollupAfter))) / hourMicros * hourMicros
	raw := []span{{from, to}}
	rolled := h2 > h1
	if rolled {
		if err := s.rollUp(ctx, ids, h1, h2); err != nil {
			return nil, err
		}
		raw = []span{{from, h1}, {h2, to}}
	}
	t := &tally{hist: map[int64]int{}}
	for _, sp := range raw {
		if sp.to <= sp.from {
			continue
		}
		if err := s.tallyRaw(ctx, t, scope, idArgs, sp); err != nil {
			return nil, err
		}
	}
	if rolled {
		if err := s.tallyRolled(ctx, t, scope, idArgs, h1, h2); err != nil {
			return nil, err
		}
	}
	if st.FilterRejected, st.FilterFailed, err = s.filterCountsIn(ctx, projectID, webhookID, since, until); err != nil {
		return nil, err
	}
	st.Attempts, st.Successes = t.attempts, t.ok
	st.Failures4xx, st.Failures5xx, st.FailuresNoAnswer = t.c4, t.c5, t.c0
	st.FailuresOther = st.Attempts - st.Successes - st.Failures4xx - st.Failures5xx - st.FailuresNoAnswer
	hist := make([]hookgate.DurationCount, 0, len(t.hist))
	for ms, n := range t.hist {
		hist = append(hist, hookgate.DurationCount{DurationMs: ms, Count: n})
	}
	st.Percentiles(hist)
	if t.lastOK > 0 {
		st.LastSuccessAt = fromMicros(t.lastOK)
	}
	if interval > 0 {
		window := scope + ` AND started_at >= ? AND started_at < ?`
		if st.Series, err = s.statsSeries(ctx, window, append(idArgs[:len(idArgs):len(idArgs)], from, to), since, until, interval); err != nil {
			return nil, err
		}
	}
	if st.Attempts > st.Successes {
		if st.LastFailure, err = s.lastFailure(ctx, scope, idArgs, from, to, h1, h2, rolled); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// tallyRaw adds the attempts started in sp, from the index.
func (s *Store) tallyRaw(ctx context.Context, t *tally, scope string, idArgs []any, sp span) error {
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT duration_ms, COUNT(*),
		SUM(CASE WHEN status_code BETWEEN 200 AND 299 THEN 1 ELSE 0 END),
		SUM(CASE WHEN status_code BETWEEN 400 AND 499 THEN 1 ELSE 0 END),
		SUM(CASE WHEN status_code >= 500 THEN 1 ELSE 0 END),
		SUM(CASE WHEN status_code = 0 THEN 1 ELSE 0 END),
		MAX(CASE WHEN status_code BETWEEN 200 AND 299 THEN started_at ELSE 0 END)
		FROM attempts WHERE `+scope+` AND started_at >= ? AND started_at < ? GROUP BY duration_ms`),
		append(idArgs[:len(idArgs):len(idArgs)], sp.from, sp.to)...)
	if err != nil {
		return err
	}
	return scanTally(rows, t)
}

// tallyRolled adds the rolled-up hours [h1, h2).
func (s *Store) tallyRolled(ctx context.Context, t *tally, scope string, idArgs []any, h1, h2 int64) error {
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT duration_ms, SUM(attempts), SUM(ok), SUM(c4), SUM(c5), SUM(c0), MAX(last_ok)
		FROM attempt_hours WHERE `+scope+` AND hour >= ? AND hour < ? AND duration_ms >= 0 GROUP BY duration_ms`),
		append(idArgs[:len(idArgs):len(idArgs)], h1, h2)...)
	if err != nil {
		return err
	}
	return scanTally(rows, t)
}

func scanTally(rows *sql.Rows, t *tally) error {
	defer rows.Close()
	for rows.Next() {
		var ms, count, ok, c4, c5, c0, last int64
		if err := rows.Scan(&ms, &count, &ok, &c4, &c5, &c0, &last); err != nil {
			return err
		}
		t.add(ms, count, ok, c4, c5, c0, last)
	}
	return rows.Err()
}

// rollUp makes the rollups of the webhooks' hours in [h1, h2) that are
// not made yet, each webhook's missing hours in one transaction: the
// sums, then the hours' marks. Nodes racing to roll the same hour write
// the same rows; the second's are ignored.
func (s *Store) rollUp(ctx context.Context, ids []string, h1, h2 int64) error {
	done := map[string]map[int64]bool{}
	args := make([]any, 0, len(ids)+2)
	for _, id := range ids {
		args = append(args, id)
		done[id] = map[int64]bool{}
	}
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT webhook_id, hour FROM attempt_hours WHERE webhook_id IN (?`+
		strings.Repeat(`, ?`, len(ids)-1)+`) AND hour >= ? AND hour < ? AND duration_ms = -1`), append(args, h1, h2)...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id string
		var h int64
		if err := rows.Scan(&id, &h); err != nil {
			rows.Close()
			return err
		}
		done[id][h] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		var missing []int64
		for h := h1; h < h2; h += hourMicros {
			if !done[id][h] {
				missing = append(missing, h)
			}
		}
		if len(missing) == 0 {
			continue
		}
		first, last := missing[0], missing[len(missing)-1]+hourMicros
		err := s.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO attempt_hours (webhook_id, hour, duration_ms, attempts, ok, c4, c5, c0, last_ok)
				SELECT webhook_id, started_at - (started_at % ?), duration_ms, COUNT(*),
					SUM(CASE WHEN status_code BETWEEN 200 AND 299 THEN 1 ELSE 0 END),
					SUM(CASE WHEN status_code BETWEEN 400 AND 499 THEN 1 ELSE 0 END),
					SUM(CASE WHEN status_code >= 500 THEN 1 ELSE 0 END),
					SUM(CASE WHEN status_code = 0 THEN 1 ELSE 0 END),
					MAX(CASE WHEN status_code BETWEEN 200 AND 299 THEN started_at ELSE 0 END)
				FROM attempts WHERE webhook_id = ? AND started_at >= ? AND started_at < ?
				GROUP BY 1, 2, 3
				ON CONFLICT DO NOTHING`), hourMicros, id, first, last); err != nil {
				return err
			}
			for len(missing) > 0 {
				chunk := missing[:min(len(missing), 400)]
				missing = missing[len(chunk):]
				vals := make([]any, 0, 2*len(chunk))
				for _, h := range chunk {
					vals = append(vals, id, h)
				}
				if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO attempt_hours (webhook_id, hour, duration_ms, attempts, ok, c4, c5, c0, last_ok) VALUES `+
					strings.TrimSuffix(strings.Repeat(`(?, ?, -1, 0, 0, 0, 0, 0, 0), `, len(chunk)), ", ")+` ON CONFLICT DO NOTHING`), vals...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// lastFailure finds the window's latest attempt without a 2xx, walking the
// index back: first the part after the rolled-up hours, then the latest
// rolled-up hour that had a failure, then the part before them.
func (s *Store) lastFailure(ctx context.Context, scope string, idArgs []any, from, to, h1, h2 int64, rolled bool) (*hookgate.FailedAttempt, error) {
	find := func(a, b int64) (*hookgate.FailedAttempt, error) {
		if b <= a {
			return nil, nil
		}
		var f hookgate.FailedAttempt
		var at int64
		err := s.read.QueryRowContext(ctx, s.q(`SELECT started_at, delivery_id, webhook_id, status_code, error FROM attempts
			WHERE `+scope+` AND started_at >= ? AND started_at < ? AND (status_code < 200 OR status_code > 299)
			ORDER BY started_at DESC LIMIT 1`), append(idArgs[:len(idArgs):len(idArgs)], a, b)...).
			Scan(&at, &f.DeliveryID, &f.WebhookID, &f.StatusCode, &f.Error)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		f.At = fromMicros(at)
		return &f, nil
	}
	if !rolled {
		return find(from, to)
	}
	if f, err := find(h2, to); f != nil || err != nil {
		return f, err
	}
	var hour sql.NullInt64
	err := s.read.QueryRowContext(ctx, s.q(`SELECT MAX(hour) FROM attempt_hours WHERE `+scope+
		` AND hour >= ? AND hour < ? AND duration_ms >= 0 AND attempts > ok`), append(idArgs[:len(idArgs):len(idArgs)], h1, h2)...).Scan(&hour)
	if err != nil {
		return nil, err
	}
	if hour.Valid {
		if f, err := find(hour.Int64, hour.Int64+hourMicros); f != nil || err != nil {
			return f, err
		}
	}
	return find(from, h1)
}

// statsWebhooks returns the IDs of the project's webhooks, or of the one
// webhook when it is the project's.
func (s *Store) statsWebhooks(ctx context.Context, projectID, webhookID string) ([]string, error) {
	q, args := `SELECT id FROM webhooks WHERE project_id = ?`, []any{projectID}
	if webhookID != "" {
		q, args = q+` AND id = ?`, append(args, webhookID)
	}
	return scanStrings(s.read.QueryContext(ctx, s.q(q), args...))
}

// statsSeries splits the window's attempts into intervals from since, each
// with its own duration histogram (the same index scan, grouped by
// interval and duration).
func (s *Store) statsSeries(ctx context.Context, window string, args []any, since, until time.Time, interval time.Duration) ([]hookgate.StatsPoint, error) {
	step := interval.Microseconds()
	n := int((until.Sub(since) + interval - 1) / interval)
	points := make([]hookgate.StatsPoint, n)
	hists := make([][]hookgate.DurationCount, n)
	for i := range points {
		points[i].At = since.Add(time.Duration(i) * interval)
	}
	q := `SELECT (started_at - ?) / ?, duration_ms, COUNT(*), SUM(CASE WHEN status_code BETWEEN 200 AND 299 THEN 1 ELSE 0 END)
		FROM attempts WHERE ` + window + ` GROUP BY 1, 2`
	all := append([]any{micros(since), step}, args...)
	rows, err := s.read.QueryContext(ctx, s.q(q), all...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var b, ms, count, ok int64
		if err := rows.Scan(&b, &ms, &count, &ok); err != nil {
			return nil, err
		}
		if b < 0 || int(b) >= n {
			continue
		}
		points[b].Attempts += int(count)
		points[b].Successes += int(ok)
		hists[b] = append(hists[b], hookgate.DurationCount{DurationMs: ms, Count: int(count)})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range points {
		var st hookgate.AttemptStats
		st.Percentiles(hists[i])
		points[i].P50Ms, points[i].P95Ms = st.P50Ms, st.P95Ms
	}
	return points, nil
}
