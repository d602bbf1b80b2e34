package sqlstore

import (
	"context"
	"time"

	"github.com/hookgate/hookgate"
)

// The figures an operator's gauges read (serve's metrics), the whole
// cluster's. Each is one query over a table that grows with the webhooks or
// the nodes, never with the events, and serve reads them at most every few
// seconds however often it is scraped.

// WebhookStatusCounts counts the webhooks by status: active, deactivated
// and disabled, each present, trigger-only webhooks included.
func (s *Store) WebhookStatusCounts(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{hookgate.StatusActive: 0, hookgate.StatusDeactivated: 0, hookgate.StatusDisabled: 0}
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT status, COUNT(*) FROM webhooks GROUP BY status`))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var status string
		var n int64
		if err := rows.Scan(&status, &n); err != nil {
			return nil, err
		}
		out[status] = n
	}
	return out, rows.Err()
}

// NodeCounts counts the registered nodes whose latest heartbeat is at or
// after live (alive) and those whose heartbeat is older (missing: silent
// for the node timeout, not yet taken over by a live node, which forgets
// them when it takes their deliveries over).
func (s *Store) NodeCounts(ctx context.Context, live time.Time) (alive, missing int64, err error) {
	err = s.read.QueryRowContext(ctx, s.q(`SELECT
		COALESCE(SUM(CASE WHEN heartbeat_at >= ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN heartbeat_at < ? THEN 1 ELSE 0 END), 0)
		FROM nodes`), micros(live), micros(live)).Scan(&alive, &missing)
	return alive, missing, err
}

// FailureStreak is a webhook's run of consecutive failed attempts, as its
// circuit breaker counts them across the cluster.
type FailureStreak struct {
	ProjectID, WebhookID string
	// Failures is the number of failed attempts in a row.
	Failures int64
}

// TopFailureStreaks returns at most limit webhooks whose circuits count
// failures in a row, the longest runs first (ties by project and webhook
// ID, so that the list is stable between reads). Only what breakers count
// is seen: attempts with no answer, 5xx and 429, of webhooks whose breaker
// is on; a success or a change of the webhook's status ends a run.
func (s *Store) TopFailureStreaks(ctx context.Context, limit int) ([]FailureStreak, error) {
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT project_id, webhook_id, failures FROM circuits
		WHERE failures > 0 ORDER BY failures DESC, project_id, webhook_id LIMIT ?`), limit)
	return scanAll(rows, err, func(r scanner) (FailureStreak, error) {
		var f FailureStreak
		return f, r.Scan(&f.ProjectID, &f.WebhookID, &f.Failures)
	})
}
