package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hookgate/hookgate"
)

// CreateSession stores a dashboard session.
func (s *Store) CreateSession(ctx context.Context, se *hookgate.Session) error {
	_, err := s.write.ExecContext(ctx, s.q(`INSERT INTO ui_sessions (id, key_id, admin_key, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`),
		se.Hash, se.KeyID, se.AdminKey, se.CSRF, micros(se.CreatedAt), micros(se.ExpiresAt))
	return err
}

// FindSession finds a live session by its token's hash.
func (s *Store) FindSession(ctx context.Context, hash string, now time.Time) (*hookgate.Session, error) {
	var se hookgate.Session
	var created, expires int64
	err := s.read.QueryRowContext(ctx, s.q(`SELECT id, key_id, admin_key, csrf, created_at, expires_at FROM ui_sessions WHERE id = ? AND expires_at > ?`),
		hash, micros(now)).Scan(&se.Hash, &se.KeyID, &se.AdminKey, &se.CSRF, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookgate.NotFound("session")
	}
	if err != nil {
		return nil, err
	}
	se.CreatedAt, se.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &se, nil
}

// DeleteSession ends a session, and every session expired by now.
func (s *Store) DeleteSession(ctx context.Context, hash string, now time.Time) error {
	_, err := s.write.ExecContext(ctx, s.q(`DELETE FROM ui_sessions WHERE id = ? OR expires_at <= ?`), hash, micros(now))
	return err
}
