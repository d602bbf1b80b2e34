package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/hookgate/hookgate"
)

// AttemptStats sums up the attempts of a webhook (webhookID) or of the
// project's webhooks (webhookID "") started in [since, until). Range scans
// of the covering index attempts_webhook_time, one per webhook, give the
// sums and the duration histogram, grouped by duration; a second query
// walks the same index back from until to the latest failure. The
// project's webhooks are read first and named in the query, so that both
// engines plan one range scan per webhook (PostgreSQL, given a subquery,
// hashed the whole table). Attempts of deleted webhooks no longer count.
func (s *Store) AttemptStats(ctx context.Context, projectID, webhookID string, since, until time.Time, interval time.Duration) (*hookgate.AttemptStats, error) {
	st := &hookgate.AttemptStats{Since: since, Until: until}
	ids, err := s.statsWebhooks(ctx, projectID, webhookID)
	if err != nil || len(ids) == 0 {
		return st, err
	}
	scope := `webhook_id IN (?` + strings.Repeat(`, ?`, len(ids)-1) + `)`
	args := make([]any, 0, len(ids)+2)
	for _, id := range ids {
		args = append(args, id)
	}
	args = append(args, micros(since), micros(until))
	window := scope + ` AND started_at >= ? AND started_at < ?`

	rows, err := s.read.QueryContext(ctx, s.q(`SELECT duration_ms, COUNT(*),
		SUM(CASE WHEN status_code BETWEEN 200 AND 299 THEN 1 ELSE 0 END),
		SUM(CASE WHEN status_code BETWEEN 400 AND 499 THEN 1 ELSE 0 END),
		SUM(CASE WHEN status_code >= 500 THEN 1 ELSE 0 END),
		SUM(CASE WHEN status_code = 0 THEN 1 ELSE 0 END),
		MAX(CASE WHEN status_code BETWEEN 200 AND 299 THEN started_at ELSE 0 END)
		FROM attempts WHERE `+window+` GROUP BY duration_ms`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var hist []hookgate.DurationCount
	var lastOK int64
	for rows.Next() {
		var d hookgate.DurationCount
		var ok, c4, c5, c0, last int64
		if err := rows.Scan(&d.DurationMs, &d.Count, &ok, &c4, &c5, &c0, &last); err != nil {
			return nil, err
		}
		hist = append(hist, d)
		st.Attempts += d.Count
		st.Successes += int(ok)
		st.Failures4xx += int(c4)
		st.Failures5xx += int(c5)
		st.FailuresNoAnswer += int(c0)
		lastOK = max(lastOK, last)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	st.FailuresOther = st.Attempts - st.Successes - st.Failures4xx - st.Failures5xx - st.FailuresNoAnswer
	st.Percentiles(hist)
	if interval > 0 {
		if st.Series, err = s.statsSeries(ctx, window, args, since, until, interval); err != nil {
			return nil, err
		}
	}
	if lastOK > 0 {
		st.LastSuccessAt = fromMicros(lastOK)
	}
	if st.Attempts == st.Successes {
		return st, nil
	}
	var f hookgate.FailedAttempt
	var at int64
	err = s.read.QueryRowContext(ctx, s.q(`SELECT started_at, delivery_id, webhook_id, status_code, error FROM attempts
		WHERE `+window+` AND (status_code < 200 OR status_code > 299) ORDER BY started_at DESC LIMIT 1`), args...).
		Scan(&at, &f.DeliveryID, &f.WebhookID, &f.StatusCode, &f.Error)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	f.At = fromMicros(at)
	st.LastFailure = &f
	return st, nil
}

// statsWebhooks returns the IDs of the project's webhooks, or of the one
// webhook when it is the project's.
func (s *Store) statsWebhooks(ctx context.Context, projectID, webhookID string) ([]string, error) {
	q, args := `SELECT id FROM webhooks WHERE project_id = ?`, []any{projectID}
	if webhookID != "" {
		q, args = q+` AND id = ?`, append(args, webhookID)
	}
	rows, err := s.read.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
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
