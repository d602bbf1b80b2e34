package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hookgate/hookgate"
)

// AttemptStats sums up the attempts of a webhook (webhookID) or of the
// whole project (webhookID "") started in [since, until). One range scan
// of a covering index (attempts_webhook_time or attempts_project_time)
// gives the sums and the duration histogram, grouped by duration; a
// second walks the same index back from until to the latest failure.
func (s *Store) AttemptStats(ctx context.Context, projectID, webhookID string, since, until time.Time) (*hookgate.AttemptStats, error) {
	scope, args := `project_id = ?`, []any{projectID}
	if webhookID != "" {
		scope, args = `project_id = ? AND webhook_id = ?`, []any{projectID, webhookID}
	}
	args = append(args, micros(since), micros(until))
	window := scope + ` AND started_at >= ? AND started_at < ?`
	st := &hookgate.AttemptStats{Since: since, Until: until}

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
