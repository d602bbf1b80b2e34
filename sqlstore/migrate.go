package sqlstore

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"io/fs"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations
var migrations embed.FS

// Migrate brings the schema up to date. On PostgreSQL it holds a session
// advisory lock, keyed by database and schema, so that many nodes starting at
// once migrate one after the other.
func (s *Store) Migrate(ctx context.Context) error {
	p, err := s.migrator(ctx)
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	// SQLite has no lock for goose to hold: when two processes migrate one
	// file at once, the loser fails on what the winner created. Trying again
	// finds the migrations applied.
	for try := 0; err != nil && s.engine == EngineSQLite && try < 5; try++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(100*(try+1)) * time.Millisecond):
		}
		_, err = p.Up(ctx)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	// The partitions of the coming days and months, made at every start;
	// without them rows land in a default partition until the next purge.
	if err := s.MaintainPartitions(ctx, s.now()); err != nil {
		s.log.Warn("maintain partitions: tried again at the next purge", "err", err)
	}
	return nil
}

// MigrationsDigest identifies the migrations built in: a hex SHA-256 of
// every migration file's name and text, of both engines. Tests key a
// migrated template database with it.
func MigrationsDigest() string {
	h := sha256.New()
	_ = fs.WalkDir(migrations, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := migrations.ReadFile(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", path, len(b))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))
}

// MigrationStatus returns the applied schema version and the latest known.
func (s *Store) MigrationStatus(ctx context.Context) (current, latest int64, err error) {
	p, err := s.migrator(ctx)
	if err != nil {
		return 0, 0, err
	}
	current, latest, err = p.GetVersions(ctx)
	return current, latest, err
}

func (s *Store) migrator(ctx context.Context) (*goose.Provider, error) {
	dialect, dir := goose.DialectSQLite3, "migrations/sqlite"
	var opts []goose.ProviderOption
	if s.engine == EnginePostgres {
		dialect, dir = goose.DialectPostgres, "migrations/postgres"
		var where string
		if err := s.write.QueryRowContext(ctx, "SELECT current_database() || '.' || current_schema()").Scan(&where); err != nil {
			return nil, fmt.Errorf("sqlstore: migrate: %w", err)
		}
		h := fnv.New64a()
		h.Write([]byte("hookgate-migrate:" + where))
		locker, err := lock.NewPostgresSessionLocker(
			lock.WithLockID(int64(h.Sum64()>>1)),
			lock.WithLockTimeout(1, 300), // retry every second for up to 5 minutes
		)
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return nil, err
	}
	opts = append(opts, goose.WithDisableGlobalRegistry(true))
	return goose.NewProvider(dialect, s.write, fsys, opts...)
}
