package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/hookgate/hookgate"
)

const eventTypeCols = "project_id, name, description, schema, created_at, updated_at"

// CreateEventType stores t; EConflict when the name is taken.
func (s *Store) CreateEventType(ctx context.Context, t *hookgate.EventType) error {
	defer s.notifyChange(ctx, "schemas", t.ProjectID)
	_, err := s.write.ExecContext(ctx, s.q(`INSERT INTO event_types (`+eventTypeCols+`) VALUES (?, ?, ?, ?, ?, ?)`),
		t.ProjectID, t.Name, t.Description, string(t.Schema), micros(t.CreatedAt), micros(t.UpdatedAt))
	if isUniqueViolation(err) {
		return &hookgate.Error{Code: hookgate.EConflict, Message: "an event type with this name exists", Param: "name", Value: t.Name}
	}
	return err
}

// FindEventType finds an event type by name.
func (s *Store) FindEventType(ctx context.Context, projectID, name string) (*hookgate.EventType, error) {
	t, err := scanEventType(s.read.QueryRowContext(ctx, s.q(`SELECT `+eventTypeCols+` FROM event_types WHERE project_id = ? AND name = ?`), projectID, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookgate.NotFound("event type")
	}
	return t, err
}

// ListEventTypes lists a project's event types in name order.
func (s *Store) ListEventTypes(ctx context.Context, projectID string, page hookgate.Page) ([]*hookgate.EventType, string, error) {
	limit := pageLimit(page)
	return queryPage(ctx, s.read, s.q(`SELECT `+eventTypeCols+` FROM event_types WHERE project_id = ? AND name > ? ORDER BY name LIMIT ?`),
		limit, scanEventType, func(t *hookgate.EventType) string { return t.Name }, projectID, page.Cursor, limit+1)
}

// UpdateEventType saves t's description and schema.
func (s *Store) UpdateEventType(ctx context.Context, t *hookgate.EventType) error {
	defer s.notifyChange(ctx, "schemas", t.ProjectID)
	res, err := s.write.ExecContext(ctx, s.q(`UPDATE event_types SET description = ?, schema = ?, updated_at = ? WHERE project_id = ? AND name = ?`),
		t.Description, string(t.Schema), micros(t.UpdatedAt), t.ProjectID, t.Name)
	return mustAffect(res, err, "event type")
}

// DeleteEventType deletes an event type.
func (s *Store) DeleteEventType(ctx context.Context, projectID, name string) error {
	defer s.notifyChange(ctx, "schemas", projectID)
	res, err := s.write.ExecContext(ctx, s.q(`DELETE FROM event_types WHERE project_id = ? AND name = ?`), projectID, name)
	return mustAffect(res, err, "event type")
}

func scanEventType(r scanner) (*hookgate.EventType, error) {
	var t hookgate.EventType
	var schema string
	var created, updated int64
	if err := r.Scan(&t.ProjectID, &t.Name, &t.Description, &schema, &created, &updated); err != nil {
		return nil, err
	}
	if schema != "" {
		t.Schema = []byte(schema)
	}
	t.CreatedAt, t.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &t, nil
}
