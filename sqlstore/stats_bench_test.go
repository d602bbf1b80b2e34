package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// statsRows is how many attempts BenchmarkAttemptStats preloads (env
// HOOKGATE_STATS_ROWS overrides it).
const statsRows = 1_000_000

// BenchmarkAttemptStats reads the stats of one webhook and of the whole
// project over 24 hours, from a store holding statsRows attempts of that
// project in the last 24 hours, spread over 10 webhooks: 90 % answered 200
// in 1-50 ms, 5 % 500, 3 % no answer, 2 % 404.
//
//	go test -run '^$' -bench AttemptStats -benchtime 20x ./sqlstore/
func BenchmarkAttemptStats(b *testing.B) {
	rows := statsRows
	if v := os.Getenv("HOOKGATE_STATS_ROWS"); v != "" {
		fmt.Sscan(v, &rows)
	}
	for _, engine := range sqltest.Engines(b) {
		b.Run(engine, func(b *testing.B) {
			cfg := sqltest.Config(b, engine)
			s := sqltest.OpenConfig(b, cfg)
			ctx := context.Background()
			const p = "proj_statsbench"
			now := time.Now()
			if err := s.CreateProject(ctx, &hookgate.Project{ID: p, Slug: "statsbench", Name: "stats", CreatedAt: now, UpdatedAt: now}); err != nil {
				b.Fatal(err)
			}
			for i := range 10 {
				w := &hookgate.Webhook{ID: fmt.Sprintf("wh_bench%d", i), ProjectID: p, URL: "http://127.0.0.1:9/hook", Secret: hookgate.NewSecret(), CreatedAt: now, UpdatedAt: now}
				w.ApplyDefaults()
				if err := s.CreateWebhook(ctx, w); err != nil {
					b.Fatal(err)
				}
			}
			if err := preloadAttempts(ctx, engine, cfg, p, rows, now); err != nil {
				b.Fatal(err)
			}
			since := now.Add(-24 * time.Hour)
			b.Run("webhook", func(b *testing.B) {
				for b.Loop() {
					st, err := s.AttemptStats(ctx, p, "wh_bench3", since, now, 0)
					if err != nil || st.Attempts != rows/10 {
						b.Fatalf("stats = %+v, %v", st, err)
					}
				}
			})
			b.Run("project", func(b *testing.B) {
				for b.Loop() {
					st, err := s.AttemptStats(ctx, p, "", since, now, 0)
					if err != nil || st.Attempts != rows {
						b.Fatalf("stats = %+v, %v", st, err)
					}
				}
			})
		})
	}
}

// preloadAttempts writes n attempts of project p with one SQL statement, on
// a connection of its own.
func preloadAttempts(ctx context.Context, engine string, cfg sqlstore.Config, p string, n int, now time.Time) error {
	driver, dsn := "pgx", cfg.DatabaseURL
	series := `WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i < ? - 1) `
	from := `FROM g`
	if engine == sqlstore.EngineSQLite {
		driver, dsn = "sqlite", "file:"+filepath.Join(cfg.DataDir, "hookgate.db")+"?_pragma=busy_timeout(10000)"
	} else {
		series, from = ``, `FROM generate_series(0, CAST($1 AS BIGINT) - 1) AS g(i)`
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	start := now.Add(-23 * time.Hour).UnixMicro()
	step := (23 * time.Hour).Microseconds() / int64(n)
	q := series + `INSERT INTO attempts (id, project_id, delivery_id, attempt, started_at, duration_ms, status_code,
		response_headers, response_body, error, webhook_id)
		SELECT 'att_b' || i, '` + p + `', 'msg_b' || i, 1, ` + fmt.Sprint(start) + ` + i * ` + fmt.Sprint(step) + `, 1 + i % 50,
			CASE WHEN i % 100 < 90 THEN 200 WHEN i % 100 < 95 THEN 500 WHEN i % 100 < 98 THEN 0 ELSE 404 END,
			'{}', '', CASE WHEN i % 100 BETWEEN 95 AND 97 THEN 'connection refused' ELSE '' END, 'wh_bench' || (i % 10) ` + from
	if engine == sqlstore.EngineSQLite {
		q = strings.Replace(q, "?", fmt.Sprint(n), 1)
		_, err = db.ExecContext(ctx, q)
	} else {
		_, err = db.ExecContext(ctx, q, n)
		if err == nil {
			_, err = db.ExecContext(ctx, `ANALYZE attempts`)
		}
	}
	return err
}
