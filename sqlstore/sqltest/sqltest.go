// Package sqltest opens real stores for tests: a SQLite file in a temporary
// directory, and a PostgreSQL schema of its own on the server named by
// HOOKGATE_TEST_DATABASE_URL, dropped when the test ends.
package sqltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/hookgate/hookgate/internal/testlog"
	"github.com/hookgate/hookgate/secrets"
	"github.com/hookgate/hookgate/sqlstore"
)

// EnvDatabaseURL names the PostgreSQL server the tests use.
const EnvDatabaseURL = "HOOKGATE_TEST_DATABASE_URL"

// Engines returns the engines to test on: SQLite always, and PostgreSQL when
// HOOKGATE_TEST_DATABASE_URL is set. Under CI=true a missing PostgreSQL fails
// the test instead of skipping it.
func Engines(t testing.TB) []string {
	t.Helper()
	if os.Getenv(EnvDatabaseURL) != "" {
		return []string{sqlstore.EngineSQLite, sqlstore.EnginePostgres}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set: CI must run the PostgreSQL tests", EnvDatabaseURL)
	}
	t.Logf("%s is not set: skipping PostgreSQL", EnvDatabaseURL)
	return []string{sqlstore.EngineSQLite}
}

// Box returns an encryption box with a random key.
func Box(t testing.TB) *secrets.Box {
	t.Helper()
	key := make([]byte, secrets.KeySize)
	_, _ = rand.Read(key)
	b, err := secrets.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Config returns a store configuration for engine, backed by a new SQLite
// directory or a new PostgreSQL schema, both removed when t ends. The
// store logs to testlog: its lines are printed only if t fails.
func Config(t testing.TB, engine string) sqlstore.Config {
	t.Helper()
	cfg := sqlstore.Config{Box: Box(t), Logger: testlog.Logger(t)}
	switch engine {
	case sqlstore.EngineSQLite:
		cfg.DataDir = t.TempDir()
	case sqlstore.EnginePostgres:
		cfg.DatabaseURL = Schema(t)
	default:
		t.Fatalf("unknown engine %q", engine)
	}
	return cfg
}

// Schema creates a PostgreSQL schema for t and returns a database URL whose
// search_path selects it. The schema is dropped when t ends.
func Schema(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvDatabaseURL)
	if base == "" {
		t.Fatalf("%s is not set", EnvDatabaseURL)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "hgtest_" + hex.EncodeToString(b)
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		db.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		db.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open opens and migrates a store for engine; it is closed when t ends.
func Open(t testing.TB, engine string) *sqlstore.Store {
	t.Helper()
	return OpenConfig(t, Config(t, engine))
}

// OpenConfig opens and migrates a store; it is closed when t ends.
func OpenConfig(t testing.TB, cfg sqlstore.Config) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// EachEngine runs fn as a parallel subtest, named after the engine, on
// every engine under test; t runs in parallel too.
func EachEngine(t *testing.T, fn func(t *testing.T, engine string)) {
	t.Helper()
	t.Parallel()
	for _, engine := range Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			fn(t, engine)
		})
	}
}
