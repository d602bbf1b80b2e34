package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookgate/hookgate"
)

const sourceCols = "project_id, id, name, kind, config, event_type, status, created_at, updated_at, lease_node, lease_until, state"

// scanSource reads a source row, opening its sealed configuration.
func (s *Store) scanSource(r scanner) (*hookgate.Source, error) {
	var src hookgate.Source
	var config, eventType, state string
	var created, updated, until int64
	if err := r.Scan(&src.ProjectID, &src.ID, &src.Name, &src.Kind, &config, &eventType, &src.Status, &created, &updated, &src.LeaseNode, &until, &state); err != nil {
		return nil, err
	}
	src.CreatedAt, src.UpdatedAt, src.LeaseUntil = fromMicros(created), fromMicros(updated), fromMicros(until)
	plain, err := s.box.OpenFor(config, where("sources.config", src.ProjectID, src.ID))
	if err != nil {
		return nil, fmt.Errorf("source %s: its configuration does not open: %w", src.ID, err)
	}
	if err := json.Unmarshal([]byte(plain), &src.Config); err != nil {
		return nil, fmt.Errorf("source %s: its configuration: %w", src.ID, err)
	}
	if err := json.Unmarshal([]byte(eventType), &src.EventType); err != nil {
		return nil, fmt.Errorf("source %s: its event type: %w", src.ID, err)
	}
	src.State.Lag = -1
	if state != "" {
		if err := json.Unmarshal([]byte(state), &src.State); err != nil {
			return nil, fmt.Errorf("source %s: its state: %w", src.ID, err)
		}
	}
	return &src, nil
}

// sealConfig seals src's configuration for its row.
func (s *Store) sealConfig(src *hookgate.Source) string {
	return s.box.SealFor(jsonText(src.Config), where("sources.config", src.ProjectID, src.ID))
}

// CreateSource stores src, its configuration sealed.
func (s *Store) CreateSource(ctx context.Context, src *hookgate.Source) error {
	_, err := s.write.ExecContext(ctx, s.q(`INSERT INTO sources (`+sourceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, '')`),
		src.ProjectID, src.ID, src.Name, src.Kind, s.sealConfig(src), jsonText(src.EventType), src.Status, micros(src.CreatedAt), micros(src.UpdatedAt))
	return err
}

// FindSource finds a project's source; ENotFound.
func (s *Store) FindSource(ctx context.Context, projectID, id string) (*hookgate.Source, error) {
	src, err := s.scanSource(s.write.QueryRowContext(ctx, s.q(`SELECT `+sourceCols+` FROM sources WHERE project_id = ? AND id = ?`), projectID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookgate.NotFound("source")
	}
	return src, err
}

// ListSources lists a project's sources, newest first.
func (s *Store) ListSources(ctx context.Context, projectID string, page hookgate.Page) ([]*hookgate.Source, string, error) {
	limit := pageLimit(page)
	return queryPage(ctx, s.read, s.q(`SELECT `+sourceCols+` FROM sources WHERE project_id = ? AND (? = '' OR id < ?) ORDER BY id DESC LIMIT ?`),
		limit, s.scanSource, func(src *hookgate.Source) string { return src.ID }, projectID, page.Cursor, page.Cursor, limit+1)
}

// UpdateSource saves src's name, configuration, event type, status and
// UpdatedAt; ENotFound.
func (s *Store) UpdateSource(ctx context.Context, src *hookgate.Source) error {
	res, err := s.write.ExecContext(ctx, s.q(`UPDATE sources SET name = ?, kind = ?, config = ?, event_type = ?, status = ?, updated_at = ? WHERE project_id = ? AND id = ?`),
		src.Name, src.Kind, s.sealConfig(src), jsonText(src.EventType), src.Status, micros(src.UpdatedAt), src.ProjectID, src.ID)
	return mustAffect(res, err, "source")
}

// DeleteSource deletes a project's source; ENotFound.
func (s *Store) DeleteSource(ctx context.Context, projectID, id string) error {
	res, err := s.write.ExecContext(ctx, s.q(`DELETE FROM sources WHERE project_id = ? AND id = ?`), projectID, id)
	return mustAffect(res, err, "source")
}

// ClaimSources leases to node, until until, every active source whose
// lease is free, expired at now, or node's already, and returns them. On
// PostgreSQL the rows another node is claiming are skipped (FOR UPDATE
// SKIP LOCKED) and those it claimed are seen as committed, so two nodes
// never both hold one; on SQLite the single writer makes it atomic.
func (s *Store) ClaimSources(ctx context.Context, node string, now, until time.Time) ([]*hookgate.Source, error) {
	lock := ""
	if s.engine == EnginePostgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	rows, err := s.write.QueryContext(ctx, s.q(`UPDATE sources SET lease_node = ?, lease_until = ?
		WHERE (project_id, id) IN (SELECT project_id, id FROM sources
			WHERE status = ? AND (lease_until <= ? OR lease_node = ?)`+lock+`)
		RETURNING `+sourceCols), node, micros(until), hookgate.SourceActive, micros(now), node)
	list, err := scanAll(rows, err, s.scanSource)
	if err != nil {
		return nil, err
	}
	return list, nil
}

// ReleaseSources gives up node's leases: of ids, or all of them; node ""
// releases every node's.
func (s *Store) ReleaseSources(ctx context.Context, node string, ids ...string) error {
	query := `UPDATE sources SET lease_node = '', lease_until = 0 WHERE lease_node = ?`
	args := []any{node}
	if node == "" {
		query = `UPDATE sources SET lease_node = '', lease_until = 0 WHERE lease_node <> ''`
		args = nil
	}
	if len(ids) > 0 {
		query += ` AND id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)`
		for _, id := range ids {
			args = append(args, id)
		}
	}
	_, err := s.write.ExecContext(ctx, s.q(query), args...)
	return err
}

// SaveSourceState saves st as a source's state while node holds its
// lease; false when it does not.
func (s *Store) SaveSourceState(ctx context.Context, projectID, id, node string, st hookgate.SourceState) (bool, error) {
	res, err := s.write.ExecContext(ctx, s.q(`UPDATE sources SET state = ? WHERE project_id = ? AND id = ? AND lease_node = ?`),
		jsonText(st), projectID, id, node)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
