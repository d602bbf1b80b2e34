package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookgate/hookgate"
)

const platformCols = "id, project_id, provider, name, credentials, api_base_url, registered, last_inbound_at, created_at, updated_at"

// CreatePlatform stores p, sealing its credentials.
func (s *Store) CreatePlatform(ctx context.Context, p *hookgate.Platform) error {
	_, err := s.write.ExecContext(ctx, s.q(`INSERT INTO platforms (`+platformCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		p.ID, p.ProjectID, p.Provider, p.Name, s.box.SealFor(string(p.Credentials), where("platforms.credentials", p.ProjectID, p.ID)), p.APIBaseURL, boolInt(p.Registered),
		micros(p.LastInboundAt), micros(p.CreatedAt), micros(p.UpdatedAt))
	return err
}

// FindPlatform finds a project's platform with its credentials opened.
func (s *Store) FindPlatform(ctx context.Context, projectID, id string) (*hookgate.Platform, error) {
	return s.scanFoundPlatform(s.read.QueryRowContext(ctx, s.q(`SELECT `+platformCols+` FROM platforms WHERE project_id = ? AND id = ?`), projectID, id))
}

// FindPlatformByID finds a platform by its ID alone, for its inbound URL.
func (s *Store) FindPlatformByID(ctx context.Context, id string) (*hookgate.Platform, error) {
	st, err := s.prepare(ctx, s.read, `SELECT `+platformCols+` FROM platforms WHERE id = ?`)
	if err != nil {
		return nil, err
	}
	return s.scanFoundPlatform(st.QueryRowContext(ctx, id))
}

// ListPlatforms lists a project's platforms, newest first.
func (s *Store) ListPlatforms(ctx context.Context, projectID string, page hookgate.Page) ([]*hookgate.Platform, string, error) {
	limit := pageLimit(page)
	return queryPage(ctx, s.read, s.q(`SELECT `+platformCols+` FROM platforms WHERE project_id = ? AND (? = '' OR id < ?) ORDER BY id DESC LIMIT ?`),
		limit, s.scanPlatform, func(p *hookgate.Platform) string { return p.ID }, projectID, page.Cursor, page.Cursor, limit+1)
}

// UpdatePlatform saves p's name, credentials, API base URL and registration.
func (s *Store) UpdatePlatform(ctx context.Context, p *hookgate.Platform) error {
	res, err := s.write.ExecContext(ctx, s.q(`UPDATE platforms SET name = ?, credentials = ?, api_base_url = ?, registered = ?, updated_at = ?
		WHERE project_id = ? AND id = ?`),
		p.Name, s.box.SealFor(string(p.Credentials), where("platforms.credentials", p.ProjectID, p.ID)), p.APIBaseURL, boolInt(p.Registered), micros(p.UpdatedAt), p.ProjectID, p.ID)
	return mustAffect(res, err, "platform")
}

// TouchPlatform records that the platform posted at at.
func (s *Store) TouchPlatform(ctx context.Context, id string, at time.Time) error {
	_, err := s.write.ExecContext(ctx, s.q(`UPDATE platforms SET last_inbound_at = ? WHERE id = ?`), micros(at), id)
	return err
}

// DeletePlatform deletes a platform; the messages sent through it stay.
func (s *Store) DeletePlatform(ctx context.Context, projectID, id string) error {
	res, err := s.write.ExecContext(ctx, s.q(`DELETE FROM platforms WHERE project_id = ? AND id = ?`), projectID, id)
	return mustAffect(res, err, "platform")
}

func (s *Store) scanFoundPlatform(r scanner) (*hookgate.Platform, error) {
	p, err := s.scanPlatform(r)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookgate.NotFound("platform")
	}
	return p, err
}

func (s *Store) scanPlatform(r scanner) (*hookgate.Platform, error) {
	var p hookgate.Platform
	var sealed string
	var registered, last, created, updated int64
	if err := r.Scan(&p.ID, &p.ProjectID, &p.Provider, &p.Name, &sealed, &p.APIBaseURL, &registered, &last, &created, &updated); err != nil {
		return nil, err
	}
	creds, err := s.box.OpenFor(sealed, where("platforms.credentials", p.ProjectID, p.ID))
	if err != nil {
		return nil, fmt.Errorf("platform %s credentials: %w", p.ID, err)
	}
	p.Credentials = json.RawMessage(creds)
	p.Registered = registered != 0
	p.LastInboundAt, p.CreatedAt, p.UpdatedAt = fromMicros(last), fromMicros(created), fromMicros(updated)
	return &p, nil
}

const messageCols = "id, project_id, platform_id, recipient, text, provider_message_id, status, error, created_at"

// CreateMessage records a message sent through a platform.
func (s *Store) CreateMessage(ctx context.Context, m *hookgate.Message) error {
	_, err := s.write.ExecContext(ctx, s.q(`INSERT INTO messages (`+messageCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		m.ID, m.ProjectID, m.PlatformID, m.To, m.Text, m.ProviderMessageID, m.Status, m.Error, micros(m.CreatedAt))
	return err
}

// ListMessages lists a project's sent messages, newest first; platformID,
// when set, keeps those of one platform.
func (s *Store) ListMessages(ctx context.Context, projectID, platformID string, page hookgate.Page) ([]*hookgate.Message, string, error) {
	limit := pageLimit(page)
	return queryPage(ctx, s.read, s.q(`SELECT `+messageCols+` FROM messages WHERE project_id = ? AND (? = '' OR platform_id = ?) AND (? = '' OR id < ?)
		ORDER BY id DESC LIMIT ?`), limit, scanMessage, func(m *hookgate.Message) string { return m.ID },
		projectID, platformID, platformID, page.Cursor, page.Cursor, limit+1)
}

func scanMessage(r scanner) (*hookgate.Message, error) {
	var m hookgate.Message
	var created int64
	if err := r.Scan(&m.ID, &m.ProjectID, &m.PlatformID, &m.To, &m.Text, &m.ProviderMessageID, &m.Status, &m.Error, &created); err != nil {
		return nil, err
	}
	m.CreatedAt = fromMicros(created)
	return &m, nil
}
