package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/hookgate/hookgate"
)

// FindDelivery finds a delivery.
func (s *Store) FindDelivery(ctx context.Context, projectID, id string) (*hookgate.Delivery, error) {
	d, err := scanDelivery(s.read.QueryRowContext(ctx, s.q(`SELECT `+deliveryReadCols+` FROM deliveries WHERE project_id = ? AND id = ?`), projectID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookgate.NotFound("delivery")
	}
	return d, err
}

// ListDeliveries lists a project's deliveries, newest first. The query holds
// only the filters in use, so that the planner picks the index that fits: an
// event's deliveries are a range of the primary key (see DeliveryID).
func (s *Store) ListDeliveries(ctx context.Context, projectID string, f hookgate.DeliveryFilter) ([]*hookgate.Delivery, string, error) {
	limit := pageLimit(f.Page)
	q := `SELECT ` + deliveryReadCols + ` FROM deliveries WHERE project_id = ?`
	args := []any{projectID}
	if f.Cursor != "" {
		q += ` AND id < ?`
		args = append(args, f.Cursor)
	}
	if f.EventID != "" {
		prefix := hookgate.DeliveryIDPrefix(f.EventID)
		q += ` AND id >= ? AND id < ? AND event_id = ?`
		args = append(args, prefix, prefix+"~", f.EventID)
	}
	if f.WebhookID != "" {
		q += ` AND webhook_id = ?`
		args = append(args, f.WebhookID)
	}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.Kind != "" {
		q += ` AND kind = ?`
		args = append(args, f.Kind)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit+1)
	return queryPage(ctx, s.read, s.q(q), limit, scanDelivery, func(d *hookgate.Delivery) string { return d.ID }, args...)
}

func scanDelivery(r scanner) (*hookgate.Delivery, error) {
	var d hookgate.Delivery
	var next, lease, created, updated int64
	if err := r.Scan(&d.ID, &d.ProjectID, &d.EventID, &d.WebhookID, &d.EventType, &d.Status, &d.Attempts, &next, &lease,
		&d.LastStatusCode, &d.LastError, &created, &updated, &d.Kind, &d.ChainID); err != nil {
		return nil, err
	}
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = fromMicros(next), fromMicros(created), fromMicros(updated)
	return &d, nil
}
