package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/hookgate/hookgate"
)

// FindDelivery finds a delivery.
func (s *Store) FindDelivery(ctx context.Context, projectID, id string) (*hookgate.Delivery, error) {
	d, err := scanDelivery(s.read.QueryRowContext(ctx, s.q(`SELECT `+deliveryCols+` FROM deliveries WHERE project_id = ? AND id = ?`), projectID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookgate.NotFound("delivery")
	}
	return d, err
}

// ListDeliveries lists a project's deliveries, newest first.
func (s *Store) ListDeliveries(ctx context.Context, projectID string, f hookgate.DeliveryFilter) ([]*hookgate.Delivery, string, error) {
	limit := pageLimit(f.Page)
	return queryPage(ctx, s.read, s.q(`SELECT `+deliveryCols+` FROM deliveries WHERE project_id = ? AND (? = '' OR id < ?)
		AND (? = '' OR webhook_id = ?) AND (? = '' OR event_id = ?) AND (? = '' OR status = ?) ORDER BY id DESC LIMIT ?`),
		limit, scanDelivery, func(d *hookgate.Delivery) string { return d.ID },
		projectID, f.Cursor, f.Cursor, f.WebhookID, f.WebhookID, f.EventID, f.EventID, f.Status, f.Status, limit+1)
}

func scanDelivery(r scanner) (*hookgate.Delivery, error) {
	var d hookgate.Delivery
	var next, lease, created, updated int64
	if err := r.Scan(&d.ID, &d.ProjectID, &d.EventID, &d.WebhookID, &d.EventType, &d.Status, &d.Attempts, &next, &lease,
		&d.LastStatusCode, &d.LastError, &created, &updated); err != nil {
		return nil, err
	}
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = fromMicros(next), fromMicros(created), fromMicros(updated)
	return &d, nil
}
