// Package sqltest opens real stores for tests: a SQLite file in a temporary
// directory, and a PostgreSQL schema of its own on the server named by
// HOOKGATE_TEST_DATABASE_URL, dropped when the test ends.
package sqltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
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

// OpenConfig opens and migrates a store; it is closed when t ends. A SQLite
// store in a directory without a database starts from a copy of a database
// migrated once per set of migrations (sqliteTemplate): migrating costs
// hundreds of milliseconds of CPU under the race detector, a copy none.
// Migrate then finds it up to date.
func OpenConfig(t testing.TB, cfg sqlstore.Config) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	if cfg.DatabaseURL == "" && cfg.DataDir != "" {
		if err := copyTemplate(cfg.DataDir); err != nil {
			t.Fatalf("sqltest: the migrated SQLite template: %v", err)
		}
	}
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

// dbFile is the SQLite file in a store's data directory.
const dbFile = "hookgate.db"

// sqliteTemplate returns the path of a SQLite database with every migration
// applied, made once per set of migrations (sqlstore.MigrationsDigest) in
// the system's temporary directory and shared by the test processes: made
// aside, then renamed into place, so that a process never sees half of one.
var sqliteTemplate = sync.OnceValues(func() (string, error) {
	final := filepath.Join(os.TempDir(), "hookgate-sqltest-"+sqlstore.MigrationsDigest()[:16])
	path := filepath.Join(final, dbFile)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	dir, err := os.MkdirTemp(os.TempDir(), "hookgate-sqltest-making-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir) // left only when the rename failed
	key := make([]byte, secrets.KeySize)
	box, err := secrets.NewBox(key)
	if err != nil {
		return "", err
	}
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, sqlstore.Config{Box: box, DataDir: dir})
	if err != nil {
		return "", err
	}
	err = s.Migrate(ctx)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	// Closing the last connection copies the WAL into the file: the file
	// alone is the database.
	if st, err := os.Stat(filepath.Join(dir, dbFile+"-wal")); err == nil && st.Size() > 0 {
		return "", fmt.Errorf("the template's WAL was left with %d bytes after closing", st.Size())
	}
	_ = os.Remove(filepath.Join(dir, dbFile+"-wal"))
	_ = os.Remove(filepath.Join(dir, dbFile+"-shm"))
	if err := os.Rename(dir, final); err != nil {
		if _, serr := os.Stat(path); serr == nil {
			return path, nil // another process made it first
		}
		return "", err
	}
	return path, nil
})

// copyTemplate copies the migrated template into dir, unless dir holds a
// database already.
func copyTemplate(dir string) error {
	dst := filepath.Join(dir, dbFile)
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	src, err := sqliteTemplate()
	if err != nil {
		return err
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o600)
}
