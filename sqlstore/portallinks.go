package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/hookgate/hookgate"
)

const portalLinkCols = "project_id, id, token_hash, capabilities, return_url, created_by, created_at, expires_at, used_at, revoked_at"

func scanPortalLink(r scanner) (*hookgate.PortalLink, error) {
	var l hookgate.PortalLink
	var caps string
	var created, expires, used, revoked int64
	if err := r.Scan(&l.ProjectID, &l.ID, &l.TokenHash, &caps, &l.ReturnURL, &l.CreatedBy, &created, &expires, &used, &revoked); err != nil {
		return nil, err
	}
	l.Capabilities = splitCaps(caps)
	l.CreatedAt, l.ExpiresAt, l.UsedAt, l.RevokedAt = fromMicros(created), fromMicros(expires), fromMicros(used), fromMicros(revoked)
	return &l, nil
}

func splitCaps(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// CreatePortalLink stores l.
func (s *Store) CreatePortalLink(ctx context.Context, l *hookgate.PortalLink) error {
	_, err := s.write.ExecContext(ctx, s.q(`INSERT INTO portal_links (`+portalLinkCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0)`),
		l.ProjectID, l.ID, l.TokenHash, strings.Join(l.Capabilities, ","), l.ReturnURL, l.CreatedBy, micros(l.CreatedAt), micros(l.ExpiresAt))
	return err
}

// ListPortalLinks lists a project's portal links, newest first.
func (s *Store) ListPortalLinks(ctx context.Context, projectID string, page hookgate.Page) ([]*hookgate.PortalLink, string, error) {
	limit := pageLimit(page)
	return queryPage(ctx, s.read, s.q(`SELECT `+portalLinkCols+` FROM portal_links WHERE project_id = ? AND (? = '' OR id < ?) ORDER BY id DESC LIMIT ?`),
		limit, scanPortalLink, func(l *hookgate.PortalLink) string { return l.ID }, projectID, page.Cursor, page.Cursor, limit+1)
}

// FindPortalLink finds a project's portal link; ENotFound.
func (s *Store) FindPortalLink(ctx context.Context, projectID, id string) (*hookgate.PortalLink, error) {
	l, err := scanPortalLink(s.write.QueryRowContext(ctx, s.q(`SELECT `+portalLinkCols+` FROM portal_links WHERE project_id = ? AND id = ?`), projectID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookgate.NotFound("portal link")
	}
	return l, err
}

// FindPortalLinkByToken finds the link whose token hashes to tokenHash;
// ENotFound.
func (s *Store) FindPortalLinkByToken(ctx context.Context, tokenHash string) (*hookgate.PortalLink, error) {
	l, err := scanPortalLink(s.write.QueryRowContext(ctx, s.q(`SELECT `+portalLinkCols+` FROM portal_links WHERE token_hash = ?`), tokenHash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookgate.NotFound("portal link")
	}
	return l, err
}

// RevokePortalLink marks a link revoked and deletes its sessions in one
// transaction. The link's row is written first: a concurrent
// UsePortalLink, which writes the same row, either commits its session
// before the delete reads the sessions or finds the link revoked.
func (s *Store) RevokePortalLink(ctx context.Context, projectID, id string, now time.Time) (*hookgate.PortalLink, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE portal_links SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END WHERE project_id = ? AND id = ?`),
			micros(now), projectID, id)
		if err := mustAffect(res, err, "portal link"); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`DELETE FROM ui_sessions WHERE portal_link_id = ?`), id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.FindPortalLink(ctx, projectID, id)
}

// UsePortalLink marks a link used and stores its session in one
// transaction; the conditional update lets exactly one of concurrent uses
// win on both engines (SQLite has one writer; PostgreSQL re-checks the
// WHERE of a row another transaction updated).
func (s *Store) UsePortalLink(ctx context.Context, tokenHash string, se *hookgate.Session, now time.Time) (*hookgate.PortalLink, error) {
	var link *hookgate.PortalLink
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE portal_links SET used_at = ? WHERE token_hash = ? AND used_at = 0 AND revoked_at = 0 AND expires_at > ?`),
			micros(now), tokenHash, micros(now))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		l, err := scanPortalLink(tx.QueryRowContext(ctx, s.q(`SELECT `+portalLinkCols+` FROM portal_links WHERE token_hash = ?`), tokenHash))
		if errors.Is(err, sql.ErrNoRows) {
			return hookgate.NotFound("portal link")
		}
		if err != nil {
			return err
		}
		if n == 0 {
			if err := l.Refusal(now); err != nil {
				return err
			}
			return hookgate.Errorf(hookgate.EPortalLinkUsed, "this link was used already; ask for a new one")
		}
		se.PortalLinkID, se.ProjectID, se.Capabilities = l.ID, l.ProjectID, l.Capabilities
		se.KeyID, se.AdminKey = "", ""
		if err := insertSession(ctx, tx, s.q, se); err != nil {
			return err
		}
		link = l
		return nil
	})
	return link, err
}
