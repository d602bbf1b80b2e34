package bench

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, to preload the embedded store
)

// preloadChunk is how many rows one preload statement writes.
const preloadChunk = 50_000

// preload writes n finished deliveries of webhook (its ID without "wh_") to
// the server's store, straight into its tables: n events, n succeeded
// deliveries and one attempt each, all older than anything the scenario
// sends, so that the scenario runs on a store that has been in use. It
// writes SQL, not API calls: a million events through the API would take
// longer than the scenario.
func (s *server) preload(ctx context.Context, n int, webhook string) error {
	driver, dsn := "pgx", s.dbURL
	if dsn == "" {
		driver, dsn = "sqlite", "file:"+filepath.Join(s.dataDirs[0], "hookgate.db")+"?_pragma=busy_timeout(30000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var project string
	if err := db.QueryRowContext(ctx, `SELECT id FROM projects WHERE slug = 'bench'`).Scan(&project); err != nil {
		return fmt.Errorf("preload: the bench project: %w", err)
	}
	// A day ago, a microsecond apart; IDs of zeros and a number sort before
	// every ID made now.
	at := time.Now().Add(-24 * time.Hour).UnixMicro()
	for from := 0; from < n; from += preloadChunk {
		to := min(n, from+preloadChunk)
		for _, st := range preloadSQL(s.dbURL != "") {
			args := []any{from + 1, to, project, at}
			if st.webhook {
				args = append(args, webhook)
			}
			if _, err := db.ExecContext(ctx, st.query, args...); err != nil {
				return fmt.Errorf("preload: %w", err)
			}
		}
	}
	return nil
}

// preloadStmt is one preload statement; with webhook it takes the webhook
// ID's suffix as a fifth parameter.
type preloadStmt struct {
	query   string
	webhook bool
}

// preloadSQL are the statements writing rows $1 to $2 of the preload, with
// $3 the project, $4 the first row's time and $5 the webhook ID's suffix.
// Row i's event is evt_0{i in 25 digits}, its delivery msg_0{i}{webhook}.
func preloadSQL(postgres bool) []preloadStmt {
	series := `WITH RECURSIVE n(i) AS (SELECT CAST($1 AS INTEGER) UNION ALL SELECT i + 1 FROM n WHERE i < $2)`
	num := `printf('%025d', i)`
	from := `FROM n`
	if postgres {
		series, num, from = ``, `lpad(i::text, 25, '0')`, `FROM generate_series(CAST($1 AS BIGINT), CAST($2 AS BIGINT)) AS n(i)`
	}
	out := []preloadStmt{
		{query: series + ` INSERT INTO events (id, project_id, type, data, idempotency_key, deliveries, created_at)
			SELECT 'evt_0' || ` + num + `, $3, 'preload', '{"n":' || i || '}', '', 1, $4 + i ` + from},
		{query: series + ` INSERT INTO deliveries (id, project_id, event_id, webhook_id, event_type, status, attempts, next_attempt_at,
				lease_until, last_status_code, last_error, created_at, updated_at)
			SELECT 'msg_0' || ` + num + ` || $5, $3, 'evt_0' || ` + num + `, 'wh_' || $5, 'preload', 'succeeded', 1, 0,
				0, 200, '', $4 + i, $4 + i ` + from, webhook: true},
		{query: series + ` INSERT INTO attempts (id, project_id, delivery_id, attempt, started_at, duration_ms, status_code,
				response_headers, response_body, error, webhook_id)
			SELECT 'att_0' || ` + num + `, $3, 'msg_0' || ` + num + ` || $5, 1, $4 + i, 1, 200, '{}', '', '', 'wh_' || $5 ` + from, webhook: true},
	}
	if !postgres {
		// SQLite binds $N by first appearance; ?N by number.
		for i := range out {
			out[i].query = strings.ReplaceAll(out[i].query, "$", "?")
		}
	}
	return out
}
