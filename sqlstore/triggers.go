package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/hookgate/hookgate"
)

// SaveTrigger records a trigger's delivery and its attempt in one
// transaction. The delivery is inserted, or, when it exists (a retry by
// hand), takes the attempt's outcome; it is never pending, so the
// dispatcher never claims it. request is sealed like a webhook's secrets.
func (s *Store) SaveTrigger(ctx context.Context, d *hookgate.Delivery, a *hookgate.Attempt, request []byte) error {
	sealed := s.box.SealFor(string(request), where("deliveries.request", d.ProjectID, d.ID))
	us := micros(d.UpdatedAt)
	// Prepared outside the transaction: SQLite's one writer connection is
	// busy during it.
	upsert, err := s.prepare(ctx, s.write, `INSERT INTO deliveries (`+deliveryCols+`, kind, chain_id, request)
		VALUES (?, ?, '', ?, '', ?, ?, 0, 0, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (project_id, id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
			last_status_code = excluded.last_status_code, last_error = excluded.last_error, updated_at = excluded.updated_at`)
	if err != nil {
		return err
	}
	insert, err := s.prepare(ctx, s.write, `INSERT INTO attempts (`+attemptCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.StmtContext(ctx, upsert).ExecContext(ctx, d.ID, d.ProjectID, d.WebhookID, d.Status, d.Attempts, d.LastStatusCode,
			d.LastError, micros(d.CreatedAt), us, hookgate.KindTrigger, d.ChainID, sealed); err != nil {
			return err
		}
		_, err := tx.StmtContext(ctx, insert).ExecContext(ctx, attemptRow(d.ProjectID, d.WebhookID, a)...)
		return err
	})
}

// FindTriggerRequest returns the input a trigger delivery was made with.
func (s *Store) FindTriggerRequest(ctx context.Context, projectID, id string) ([]byte, error) {
	var kind, sealed string
	err := s.read.QueryRowContext(ctx, s.q(`SELECT kind, request FROM deliveries WHERE project_id = ? AND id = ?`), projectID, id).Scan(&kind, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookgate.NotFound("delivery")
	}
	if err != nil {
		return nil, err
	}
	if kind != hookgate.KindTrigger {
		return nil, &hookgate.Error{Code: hookgate.EConflict, Message: "the delivery is not a trigger"}
	}
	if sealed == "" {
		return nil, &hookgate.Error{Code: hookgate.EConflict, Message: "the trigger's input was purged by retention; trigger the webhook again instead"}
	}
	req, err := s.box.OpenFor(sealed, where("deliveries.request", projectID, id))
	if err != nil {
		return nil, err
	}
	return []byte(req), nil
}
