// Package sqlstore implements hookgate.Store on SQLite (modernc.org/sqlite,
// pure Go) and on PostgreSQL (pgx v5). Both engines run the same SQL, written
// with '?' placeholders and rebound for PostgreSQL once.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/secrets"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// Engine names.
const (
	EngineSQLite   = "sqlite"
	EnginePostgres = "postgres"
)

// Config configures Open. The zero value with a Box opens SQLite in
// ./hookgate-data.
type Config struct {
	// DatabaseURL selects PostgreSQL when it starts with postgres:// or
	// postgresql://. Empty means SQLite in DataDir.
	DatabaseURL string
	// DataDir holds the SQLite file hookgate.db. Default "./hookgate-data".
	DataDir string
	// Box encrypts webhook secrets and credentials. Required.
	Box *secrets.Box
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
	// MaxOpenConns caps PostgreSQL connections (default 16) and SQLite
	// readers (default 4); SQLite always has exactly one writer.
	MaxOpenConns int
	// SQLiteSynchronous is SQLite's synchronous setting, SynchronousFull
	// (the default, when empty) or SynchronousNormal; PostgreSQL ignores
	// it (its server's synchronous_commit decides).
	SQLiteSynchronous string
	// SQLiteCommitDelay is how long, at most, a small group commit on
	// SQLite waits after its first event for others to share it, while
	// events come closer together than that (see the committer); 0 never
	// waits, and is serve's default: like PostgreSQL's commit_delay, it
	// trades each answer's time for CPU. PostgreSQL ignores it.
	SQLiteCommitDelay time.Duration
}

// MaxSQLiteCommitDelay bounds Config.SQLiteCommitDelay: it is added to
// the answer of an event that waits.
const MaxSQLiteCommitDelay = 10 * time.Millisecond

// SQLite synchronous settings (Config.SQLiteSynchronous).
const (
	// SynchronousFull makes every commit wait until the WAL is on disk:
	// one fsync per commit, and the ingest commits a group of events at
	// once. A committed event survives a crash of the process, of the
	// operating system, and a power cut.
	SynchronousFull = "full"
	// SynchronousNormal syncs the WAL only when it is checkpointed: a
	// committed event survives a crash of the process, but the last
	// commits may vanish when the operating system crashes or the power
	// fails.
	SynchronousNormal = "normal"
)

// Store is a hookgate.Store on one SQL database.
type Store struct {
	engine string
	url    string  // the PostgreSQL URL, for the LISTEN connection
	write  *sql.DB // SQLite: the single writer connection. Postgres: the pool.
	read   *sql.DB // SQLite: the reader pool. Postgres: the same pool.
	box    *secrets.Box
	log    *slog.Logger
	now    func() time.Time
	// wakeCh and changeCh name the notification channels on PostgreSQL
	// (see channels).
	wakeCh, changeCh string

	queries  sync.Map // query text with '?' -> rebound text
	stmts    sync.Map // stmtKey -> prepared multi-row INSERT
	prepared atomic.Bool
	hot      sync.Map // hotKey -> prepared statement of a frequent query
	adopter  atomic.Pointer[adopterBox]
	hooks    hookCache
	// filterCounts holds the counts of filtered events until written.
	filterCounts filterTally
	// checkpoints copies the WAL into the database file, on SQLite.
	checkpoints *checkpointer

	ingest *committer
}

var _ hookgate.Store = (*Store)(nil)

// Open connects to the database. It does not migrate; call Migrate.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Box == nil {
		return nil, errors.New("sqlstore: Config.Box is required")
	}
	s := &Store{box: cfg.Box, log: cfg.Logger, now: cfg.Now}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	var err error
	switch {
	case strings.HasPrefix(cfg.DatabaseURL, "postgres://"), strings.HasPrefix(cfg.DatabaseURL, "postgresql://"):
		err = s.openPostgres(ctx, cfg)
	case cfg.DatabaseURL == "":
		err = s.openSQLite(ctx, cfg)
	default:
		return nil, fmt.Errorf("sqlstore: unsupported database URL scheme in %q (want postgres:// or none for SQLite)", redactURL(cfg.DatabaseURL))
	}
	if err != nil {
		return nil, err
	}
	workers, gather := 4, time.Duration(0)
	if s.engine == EngineSQLite {
		workers = 1 // SQLite has one writer; more committers would only queue on it.
		gather = cfg.SQLiteCommitDelay
	}
	s.ingest = newCommitter(s, workers, gather)
	return s, nil
}

// writerCacheKiB is the SQLite writer's page cache, in KiB of pages
// (PRAGMA cache_size, negative); the readers and the checkpointer have
// SQLite's default, 2 MiB each.
const writerCacheKiB = 16 << 10

func (s *Store) openSQLite(ctx context.Context, cfg Config) error {
	if cfg.SQLiteCommitDelay < 0 || cfg.SQLiteCommitDelay > MaxSQLiteCommitDelay {
		return fmt.Errorf("sqlstore: SQLiteCommitDelay must be between 0 and %s, not %s", MaxSQLiteCommitDelay, cfg.SQLiteCommitDelay)
	}
	mode := cfg.SQLiteSynchronous
	switch mode {
	case "":
		mode = SynchronousFull
	case SynchronousFull, SynchronousNormal:
	default:
		return fmt.Errorf("sqlstore: SQLiteSynchronous must be %q or %q, not %q", SynchronousFull, SynchronousNormal, mode)
	}
	dir := cfg.DataDir
	if dir == "" {
		dir = "./hookgate-data"
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("sqlstore: data dir: %w", err)
	}
	path, err := filepath.Abs(filepath.Join(dir, "hookgate.db"))
	if err != nil {
		return err
	}
	// SQLite creates its -wal and -shm files with the database file's
	// mode: made 0600 here, none of them is readable by others.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err == nil {
		f.Close()
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if st, err := os.Stat(path + suffix); err == nil && st.Mode().Perm()&0o077 != 0 {
			_ = os.Chmod(path+suffix, 0o600)
		}
	}
	// synchronous(FULL) by default: an event answered 202 is on disk, not
	// only in the operating system's cache (see SynchronousFull).
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(" + strings.ToUpper(mode) + ")&_pragma=foreign_keys(OFF)&_pragma=temp_store(MEMORY)"
	// The writer gets a page cache of 16 MiB of pages (writerCacheKiB):
	// index pages of the deliveries table stay in memory under load
	// instead of being read back. It costs about twice that resident: the
	// driver's C allocator (modernc.org/memory) rounds each cached page,
	// 4 KiB and SQLite's header, up to an 8 KiB slot. 32 MiB of pages took
	// the server to 160–170 MB under the bench's fanout, 64 MiB to 193 MB
	// (docs/performance.md).
	// The writer does not checkpoint: checkpoint.go does, on a connection
	// of its own, so that copying the WAL into the database and the fsync
	// after it never hold up a commit.
	dsn := "file:" + path + "?" + pragmas + "&_pragma=cache_size(-" + strconv.Itoa(writerCacheKiB) + ")&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit(67108864)&_txlock=immediate"
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// Switching a new file to WAL can answer SQLITE_BUSY at once, without
	// the busy timeout, when other processes open it at the same moment.
	for try := 0; ; try++ {
		err = w.PingContext(ctx)
		if err == nil {
			break
		}
		if try == 50 || !strings.Contains(err.Error(), "SQLITE_BUSY") || ctx.Err() != nil {
			w.Close()
			return fmt.Errorf("sqlstore: open %s: %w", path, err)
		}
		time.Sleep(time.Duration(10+try*10) * time.Millisecond)
	}
	readers := cfg.MaxOpenConns
	if readers <= 0 {
		readers = 4
	}
	r, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return err
	}
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	c, err := sql.Open("sqlite", "file:"+path+"?"+pragmas)
	if err != nil {
		w.Close()
		r.Close()
		return err
	}
	c.SetMaxOpenConns(1)
	s.engine, s.write, s.read = EngineSQLite, w, r
	s.checkpoints = startCheckpointer(c, s.log)
	return nil
}

func (s *Store) openPostgres(ctx context.Context, cfg Config) error {
	db, err := sql.Open("pgx", cfg.DatabaseURL)
	if err != nil {
		return err
	}
	n := cfg.MaxOpenConns
	if n <= 0 {
		n = 16
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return fmt.Errorf("sqlstore: connect to %s: %w", redactURL(cfg.DatabaseURL), err)
	}
	var schema string
	if err := db.QueryRowContext(ctx, "SELECT COALESCE(current_schema(), '')").Scan(&schema); err != nil {
		db.Close()
		return fmt.Errorf("sqlstore: read the schema of %s: %w", redactURL(cfg.DatabaseURL), err)
	}
	s.wakeCh, s.changeCh = channels(schema)
	s.engine, s.write, s.read, s.url = EnginePostgres, db, db, cfg.DatabaseURL
	return nil
}

// adopterBox holds an Adopter for atomic.Pointer.
type adopterBox struct{ a hookgate.Adopter }

// Adopt hands the deliveries ingest creates from now on to a, leased to it
// in the same transaction (see hookgate.Adopter); nil stops.
func (s *Store) Adopt(a hookgate.Adopter) {
	if a == nil {
		s.adopter.Store(nil)
		return
	}
	s.adopter.Store(&adopterBox{a})
}

// Engine returns EngineSQLite or EnginePostgres.
func (s *Store) Engine() string { return s.engine }

// Synchronous reports what a commit waits for, as the database itself
// says: SQLite's synchronous setting on the writer connection ("full",
// "normal", …), or PostgreSQL's synchronous_commit ("on", "off", …).
func (s *Store) Synchronous(ctx context.Context) (string, error) {
	if s.engine == EnginePostgres {
		var v string
		err := s.write.QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&v)
		return v, err
	}
	var n int
	if err := s.write.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&n); err != nil {
		return "", err
	}
	if names := []string{"off", "normal", "full", "extra"}; n >= 0 && n < len(names) {
		return names[n], nil
	}
	return strconv.Itoa(n), nil
}

type hotKey struct {
	db    *sql.DB
	query string
}

// prepare returns query (with '?' placeholders) prepared once on db: on
// SQLite, parsing a statement costs more than running a small one
// (a third of a trigger's CPU before). database/sql prepares it again on
// each connection that runs it. Only fixed query texts belong here.
func (s *Store) prepare(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	k := hotKey{db, query}
	if st, ok := s.hot.Load(k); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.PrepareContext(ctx, s.q(query))
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.hot.LoadOrStore(k, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// hotTx returns query bound to tx: the statement prepareInserts prepared
// once on the writer when it is one of hotWrites, else prepared for tx
// alone. (Preparing on the writer inside a transaction would wait for the
// connection the transaction holds: SQLite has one.) A statement from
// hotTx is closed with its transaction.
func (s *Store) hotTx(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if st, ok := s.hot.Load(hotKey{s.write, query}); ok {
		return tx.StmtContext(ctx, st.(*sql.Stmt)), nil
	}
	return tx.PrepareContext(ctx, s.q(query))
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// IngestCounts returns the events waiting for their group commit now, and
// the events committed since the store opened.
func (s *Store) IngestCounts() (queued, committed int64) {
	return s.ingest.queued.Load(), s.ingest.committed.Load()
}

// Close stops accepting events, waits for the ones in flight to commit, and
// closes the connections.
func (s *Store) Close() error {
	s.ingest.close()
	s.stopFilterCounts()
	if s.checkpoints != nil {
		s.checkpoints.stop()
	}
	for _, m := range []*sync.Map{&s.stmts, &s.hot} {
		m.Range(func(_, v any) bool {
			v.(*sql.Stmt).Close()
			return true
		})
	}
	err := s.write.Close()
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}

// q returns query with its '?' placeholders in the engine's syntax.
func (s *Store) q(query string) string {
	if s.engine != EnginePostgres {
		return query
	}
	if v, ok := s.queries.Load(query); ok {
		return v.(string)
	}
	r := rebind(query)
	s.queries.Store(query, r)
	return r
}

// rebind turns '?' placeholders into $1, $2, … (no query here has '?' in a
// string literal).
func rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// tx runs fn in a write transaction and commits it when fn returns nil.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// isUniqueViolation reports whether err is a unique constraint failure on
// either engine.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "SQLSTATE 23505")
}

// pageLimit applies the default and the cap to a page size.
func pageLimit(p hookgate.Page) int {
	switch {
	case p.Limit <= 0:
		return hookgate.DefaultPageLimit
	case p.Limit > hookgate.MaxPageLimit:
		return hookgate.MaxPageLimit
	}
	return p.Limit
}

// trimPage cuts a list fetched with limit+1 rows to limit and returns the
// cursor of the next page, or "" when this is the last.
func trimPage[T any](list []T, limit int, key func(T) string) ([]T, string) {
	if len(list) <= limit {
		return list, ""
	}
	list = list[:limit]
	return list, key(list[limit-1])
}

// queryPage runs a list query that selects limit+1 rows and returns one page
// and the cursor of the next.
func queryPage[T any](ctx context.Context, db *sql.DB, query string, limit int, scan func(scanner) (T, error), key func(T) string, args ...any) ([]T, string, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	list, err := scanAll(rows, err, scan)
	if err != nil {
		return nil, "", err
	}
	if list == nil {
		list = []T{} // an empty page is a list, not null
	}
	list, next := trimPage(list, limit, key)
	return list, next, nil
}

// scanAll reads every row of a query with scan and closes them; rows and
// err are what the query returned.
func scanAll[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
