package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/hookgate/hookgate"
)

const sessionCols = "id, key_id, admin_key, csrf, created_at, expires_at, portal_link_id, project_id, capabilities"

// CreateSession stores a dashboard session.
func (s *Store) CreateSession(ctx context.Context, se *hookgate.Session) error {
	return insertSession(ctx, s.write, s.q, se)
}

func insertSession(ctx context.Context, db execer, q func(string) string, se *hookgate.Session) error {
	_, err := db.ExecContext(ctx, q(`INSERT INTO ui_sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		se.Hash, se.KeyID, se.AdminKey, se.CSRF, micros(se.CreatedAt), micros(se.ExpiresAt),
		se.PortalLinkID, se.ProjectID, strings.Join(se.Capabilities, ","))
	return err
}

// FindSession finds a live session by its token's hash.
func (s *Store) FindSession(ctx context.Context, hash string, now time.Time) (*hookgate.Session, error) {
	var se hookgate.Session
	var created, expires int64
	var caps string
	err := s.read.QueryRowContext(ctx, s.q(`SELECT `+sessionCols+` FROM ui_sessions WHERE id = ? AND expires_at > ?`),
		hash, micros(now)).Scan(&se.Hash, &se.KeyID, &se.AdminKey, &se.CSRF, &created, &expires, &se.PortalLinkID, &se.ProjectID, &caps)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookgate.NotFound("session")
	}
	if err != nil {
		return nil, err
	}
	se.CreatedAt, se.ExpiresAt = fromMicros(created), fromMicros(expires)
	se.Capabilities = splitCaps(caps)
	return &se, nil
}

// DeleteSession ends a session, and every session expired by now.
func (s *Store) DeleteSession(ctx context.Context, hash string, now time.Time) error {
	_, err := s.write.ExecContext(ctx, s.q(`DELETE FROM ui_sessions WHERE id = ? OR expires_at <= ?`), hash, micros(now))
	return err
}
