package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/hookgate/hookgate"
)

const projectCols = "id, slug, name, retry_schedule, created_at, updated_at, auto_recover, breaker_failures, breaker_cooldown_ms, portal_origins, portal_theme, trace_headers_off"

// CreateProject stores p; EConflict when the slug is taken.
func (s *Store) CreateProject(ctx context.Context, p *hookgate.Project) error {
	origins, theme := portalColumns(p.Portal)
	_, err := s.write.ExecContext(ctx, s.q(`INSERT INTO projects (`+projectCols+`, portal_logo) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		p.ID, p.Slug, p.Name, p.RetrySchedule.String(), micros(p.CreatedAt), micros(p.UpdatedAt), nullBool(p.AutoRecover), p.Breaker.Failures, p.Breaker.Cooldown.Milliseconds(),
		origins, theme, boolInt(p.TraceHeadersOff), logoData(p.Portal.Theme.Logo))
	if isUniqueViolation(err) {
		return &hookgate.Error{Code: hookgate.EConflict, Message: "a project with this slug exists", Param: "slug", Value: p.Slug}
	}
	return err
}

// FindProject finds a project by ID or slug.
func (s *Store) FindProject(ctx context.Context, ref string) (*hookgate.Project, error) {
	col := "slug"
	if strings.HasPrefix(ref, hookgate.PrefixProject) {
		col = "id"
	}
	p, err := scanProject(s.read.QueryRowContext(ctx, s.q(`SELECT `+projectCols+` FROM projects WHERE `+col+` = ?`), ref))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookgate.NotFound("project")
	}
	return p, err
}

// ListProjects lists projects, newest first.
func (s *Store) ListProjects(ctx context.Context, page hookgate.Page) ([]*hookgate.Project, string, error) {
	limit := pageLimit(page)
	return queryPage(ctx, s.read, s.q(`SELECT `+projectCols+` FROM projects WHERE (? = '' OR id < ?) ORDER BY id DESC LIMIT ?`),
		limit, scanProject, func(p *hookgate.Project) string { return p.ID }, page.Cursor, page.Cursor, limit+1)
}

// UpdateProject saves p's settings; the portal's logo is replaced when
// p.Portal.Theme.Logo carries Data, removed when it is nil, kept otherwise.
func (s *Store) UpdateProject(ctx context.Context, p *hookgate.Project) error {
	origins, theme := portalColumns(p.Portal)
	logo := `, portal_logo = ?`
	args := []any{p.Slug, p.Name, p.RetrySchedule.String(), micros(p.UpdatedAt), nullBool(p.AutoRecover), p.Breaker.Failures, p.Breaker.Cooldown.Milliseconds(), origins, theme, boolInt(p.TraceHeadersOff)}
	if l := p.Portal.Theme.Logo; l != nil && l.Data == nil {
		logo = ""
	} else {
		args = append(args, logoData(l))
	}
	res, err := s.write.ExecContext(ctx, s.q(`UPDATE projects SET slug = ?, name = ?, retry_schedule = ?, updated_at = ?, auto_recover = ?, breaker_failures = ?, breaker_cooldown_ms = ?, portal_origins = ?, portal_theme = ?, trace_headers_off = ?`+logo+` WHERE id = ?`),
		append(args, p.ID)...)
	if isUniqueViolation(err) {
		return &hookgate.Error{Code: hookgate.EConflict, Message: "a project with this slug exists", Param: "slug", Value: p.Slug}
	}
	if err := mustAffect(res, err, "project"); err != nil {
		return err
	}
	s.notifyChange(ctx, "project", p.ID) // cached keys remember the slug
	return nil
}

// projectTables lists every table with a project_id column, children first.
var projectTables = []string{"attempts", "deliveries", "circuits", "idempotency_keys", "events", "event_types", "webhook_recovery", "webhooks", "api_keys", "messages", "platforms", "ui_sessions", "portal_links", "sources"}

// DeleteProject deletes a project and everything it owns.
func (s *Store) DeleteProject(ctx context.Context, id string) error {
	defer s.webhooksChanged(ctx)
	defer s.notifyChange(ctx, "project", id)
	return s.tx(ctx, func(tx *sql.Tx) error {
		tables := projectTables
		if s.engine == EnginePostgres {
			tables = append([]string{"deliveries_history", "events_history"}, tables...)
		}
		for _, t := range tables {
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM `+t+` WHERE project_id = ?`), id); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM projects WHERE id = ?`), id)
		return mustAffect(res, err, "project")
	})
}

type scanner interface{ Scan(dest ...any) error }

func scanProject(r scanner) (*hookgate.Project, error) {
	var p hookgate.Project
	var sched string
	var created, updated, cooldownMS int64
	var autoRecover sql.NullInt64
	var origins, theme string
	var traceOff int
	if err := r.Scan(&p.ID, &p.Slug, &p.Name, &sched, &created, &updated, &autoRecover, &p.Breaker.Failures, &cooldownMS, &origins, &theme, &traceOff); err != nil {
		return nil, err
	}
	p.Portal = portalOf(origins, theme)
	p.TraceHeadersOff = traceOff == 1
	p.AutoRecover = boolOf(autoRecover)
	p.Breaker.Cooldown = time.Duration(cooldownMS) * time.Millisecond
	p.RetrySchedule = parseSchedule(sched)
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &p, nil
}

// parseSchedule reads a stored schedule; one that does not parse (it was
// checked when written) is none, so that the server's applies.
func parseSchedule(s string) hookgate.Schedule {
	if s == "" {
		return nil
	}
	out, err := hookgate.ParseSchedule(s)
	if err != nil {
		return nil
	}
	return out
}

// mustAffect turns "no row changed" into ENotFound.
func mustAffect(res sql.Result, err error, kind string) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return hookgate.NotFound(kind)
	}
	return nil
}
