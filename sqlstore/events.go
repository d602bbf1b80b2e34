package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/hookgate/hookgate"
)

const eventCols = "id, project_id, type, data, idempotency_key, deliveries, created_at, trace, trace_state"

// MaxPageBytes bounds the event data of one page of a list.
const MaxPageBytes = 4 << 20

// FindEvent finds an event: on PostgreSQL in events, then in its history
// (see readHot).
func (s *Store) FindEvent(ctx context.Context, projectID, id string) (*hookgate.Event, error) {
	e, err := readHot(ctx, s, "events", eventCols, scanEvent, projectID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookgate.NotFound("event")
	}
	return e, err
}

// ListEvents lists a project's events, newest first.
func (s *Store) ListEvents(ctx context.Context, projectID string, f hookgate.EventFilter) ([]*hookgate.Event, string, error) {
	limit := pageLimit(f.Page)
	q := `SELECT ` + eventCols + ` FROM event_rows WHERE project_id = ? AND (? = '' OR id < ?)`
	args := []any{projectID, f.Cursor, f.Cursor}
	switch {
	case strings.HasSuffix(f.Type, ".*"):
		// Event types hold no LIKE wildcards ('%', '_' is escaped below).
		q += ` AND type LIKE ? ESCAPE '\'`
		args = append(args, strings.ReplaceAll(strings.TrimSuffix(f.Type, "*"), "_", `\_`)+"%")
	case f.Type != "":
		q += ` AND type = ?`
		args = append(args, f.Type)
	case !f.Operational:
		q += ` AND type NOT LIKE 'hookgate.%'`
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit+1)
	list, next, err := queryPage(ctx, s.read, s.q(q), limit, scanEvent, func(e *hookgate.Event) string { return e.ID }, args...)
	if err != nil {
		return nil, "", err
	}
	// A page holds at most MaxPageBytes of data, so that one answer never
	// pins much memory; the rest is on the next page.
	size := 0
	for i, e := range list {
		if size += len(e.Data); size > MaxPageBytes && i > 0 {
			return list[:i], list[i-1].ID, nil
		}
	}
	return list, next, nil
}

func scanEvent(r scanner) (*hookgate.Event, error) {
	var e hookgate.Event
	var data, trace, state string
	var created int64
	if err := r.Scan(&e.ID, &e.ProjectID, &e.Type, &data, &e.IdempotencyKey, &e.Deliveries, &created, &trace, &state); err != nil {
		return nil, err
	}
	e.Trace, _ = hookgate.ParseTraceparent(trace, state)
	e.Data = json.RawMessage(data)
	e.CreatedAt = fromMicros(created)
	return &e, nil
}

// InlineEventBytes is the largest event data FindEventsForDelivery returns;
// larger events come without data, to be read with FindEvent when sent.
const InlineEventBytes = 64 << 10

// FindEventsForDelivery reads the events of claimed deliveries, a project
// at a time, keyed by project and event ID. Data larger than
// InlineEventBytes is left nil, so that a claimed batch never holds much
// memory.
func (s *Store) FindEventsForDelivery(ctx context.Context, ds []*hookgate.Delivery) (map[[2]string]*hookgate.Event, error) {
	byProject := map[string][]any{}
	seen := map[[2]string]bool{}
	for _, d := range ds {
		k := [2]string{d.ProjectID, d.EventID}
		if !seen[k] {
			seen[k] = true
			byProject[d.ProjectID] = append(byProject[d.ProjectID], d.EventID)
		}
	}
	out := make(map[[2]string]*hookgate.Event, len(seen))
	for project, ids := range byProject {
		if s.engine == EnginePostgres {
			// One array: the statement is the same for any number of
			// IDs, and its plan is an index lookup per ID whatever the
			// table's statistics. (A prepared IN list of 256 placeholders
			// got a generic plan that scanned the whole table.)
			list := make([]string, len(ids))
			for i, id := range ids {
				list[i] = id.(string)
			}
			if err := s.readEventsQuery(ctx, `SELECT id, project_id, type, CASE WHEN LENGTH(data) <= `+strconv.Itoa(InlineEventBytes)+` THEN data END, created_at, trace, trace_state
				FROM events WHERE project_id = ? AND id = ANY(?)`, []any{project, list}, out); err != nil {
				return nil, err
			}
			// An event whose data retention purged may have moved to its
			// history while a delivery of it was queued again: read the
			// few missing there.
			missing := list[:0]
			for _, id := range list {
				if out[[2]string{project, id}] == nil {
					missing = append(missing, id)
				}
			}
			if len(missing) > 0 {
				if err := s.readEventsQuery(ctx, `SELECT id, project_id, type, data, created_at, trace, trace_state
					FROM events_history WHERE project_id = ? AND id = ANY(?)`, []any{project, missing}, out); err != nil {
					return nil, err
				}
			}
			continue
		}
		for len(ids) > 0 {
			// A few fixed IN-list sizes, so that the statements are
			// prepared once; a short last chunk repeats its last ID.
			n := inChunk(len(ids))
			chunk := ids[:min(n, len(ids))]
			ids = ids[len(chunk):]
			if err := s.readEvents(ctx, project, chunk, n, out); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// inChunk is the IN-list size used for n IDs: the smallest of insertChunks
// that holds them, or the largest.
func inChunk(n int) int {
	best := insertChunks[0]
	for _, c := range insertChunks {
		if c >= n {
			best = c
		}
	}
	return best
}

// readEvents reads the events ids (padded to n with the last) of project
// into out.
func (s *Store) readEvents(ctx context.Context, project string, ids []any, n int, out map[[2]string]*hookgate.Event) error {
	q := `SELECT id, project_id, type, CASE WHEN LENGTH(data) <= ` + strconv.Itoa(InlineEventBytes) + ` THEN data END, created_at, trace, trace_state
		FROM events WHERE project_id = ? AND id IN (?` + strings.Repeat(", ?", n-1) + `)`
	st, err := s.prepare(ctx, s.read, q)
	if err != nil {
		return err
	}
	args := make([]any, 0, 1+n)
	args = append(append(args, project), ids...)
	for len(args) < 1+n {
		args = append(args, ids[len(ids)-1])
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	return readEventRows(rows, out)
}

// readEventsQuery runs query, with its '?' placeholders, and reads the
// events it selects into out.
func (s *Store) readEventsQuery(ctx context.Context, query string, args []any, out map[[2]string]*hookgate.Event) error {
	rows, err := s.read.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return err
	}
	return readEventRows(rows, out)
}

// readEventRows reads rows of (id, project_id, type, data or NULL,
// created_at, trace, trace_state) into out, and closes them.
func readEventRows(rows *sql.Rows, out map[[2]string]*hookgate.Event) error {
	defer rows.Close()
	for rows.Next() {
		var e hookgate.Event
		var data sql.NullString
		var created int64
		var trace, state string
		if err := rows.Scan(&e.ID, &e.ProjectID, &e.Type, &data, &created, &trace, &state); err != nil {
			return err
		}
		e.Trace, _ = hookgate.ParseTraceparent(trace, state)
		if data.Valid {
			e.Data = json.RawMessage(data.String)
		}
		e.CreatedAt = fromMicros(created)
		out[[2]string{e.ProjectID, e.ID}] = &e
	}
	return rows.Err()
}
