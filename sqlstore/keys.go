package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/hookgate/hookgate"
)

const keyCols = "id, project_id, name, role, hash, created_at"

// CreateAPIKey stores k.
func (s *Store) CreateAPIKey(ctx context.Context, k *hookgate.APIKey) error {
	_, err := s.write.ExecContext(ctx, s.q(`INSERT INTO api_keys (`+keyCols+`) VALUES (?, ?, ?, ?, ?, ?)`),
		k.ID, k.ProjectID, k.Name, string(k.Role), k.Hash, micros(k.CreatedAt))
	return err
}

// FindAPIKey finds a key by its ID.
func (s *Store) FindAPIKey(ctx context.Context, id string) (*hookgate.APIKey, error) {
	k, err := scanKey(s.read.QueryRowContext(ctx, s.q(`SELECT `+keyCols+` FROM api_keys WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookgate.NotFound("key")
	}
	return k, err
}

// ListAPIKeys lists a project's keys, newest first.
func (s *Store) ListAPIKeys(ctx context.Context, projectID string, page hookgate.Page) ([]*hookgate.APIKey, string, error) {
	limit := pageLimit(page)
	return queryPage(ctx, s.read, s.q(`SELECT `+keyCols+` FROM api_keys WHERE project_id = ? AND (? = '' OR id < ?) ORDER BY id DESC LIMIT ?`),
		limit, scanKey, func(k *hookgate.APIKey) string { return k.ID }, projectID, page.Cursor, page.Cursor, limit+1)
}

// DeleteAPIKey revokes a key.
func (s *Store) DeleteAPIKey(ctx context.Context, projectID, id string) error {
	res, err := s.write.ExecContext(ctx, s.q(`DELETE FROM api_keys WHERE project_id = ? AND id = ?`), projectID, id)
	if err := mustAffect(res, err, "key"); err != nil {
		return err
	}
	s.notifyChange(ctx, "key", id)
	return nil
}

func scanKey(r scanner) (*hookgate.APIKey, error) {
	var k hookgate.APIKey
	var role string
	var created int64
	if err := r.Scan(&k.ID, &k.ProjectID, &k.Name, &role, &k.Hash, &created); err != nil {
		return nil, err
	}
	k.Role = hookgate.Role(role)
	k.CreatedAt = fromMicros(created)
	return &k, nil
}
