package bench

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DBFigures are what PostgreSQL spent on a scenario, per delivery, read
// from the database server while the scenario ran (see dbProbe). A figure
// that could not be read is null, and Notes say why.
type DBFigures struct {
	// CPUMsPerDelivery is the CPU time (user+system) of every process on
	// this machine named postgres, its backends and its background writer,
	// WAL writer and checkpointer, from the start of load to the last
	// delivery, over the deliveries; null when the database is not on this
	// machine. Other databases' work on the same server counts too.
	CPUMsPerDelivery *float64 `json:"cpu_ms_per_delivery"`
	// CPUCores is the same CPU time over the same wall time.
	CPUCores *float64 `json:"cpu_cores"`
	// WALBytesPerDelivery is pg_current_wal_lsn()'s advance over the
	// scenario (pg_wal_lsn_diff), over the deliveries: the whole server's
	// WAL, the same whichever the database.
	WALBytesPerDelivery float64 `json:"wal_bytes_per_delivery"`
	// DiskBytesPerDelivery is the postgres processes' write_bytes (from
	// /proc/{pid}/io: bytes they sent to the storage layer, the WAL and
	// the data pages they wrote) over the deliveries; null when the
	// database is not on this machine or /proc/{pid}/io cannot be read.
	// Data pages written later, by a checkpoint after the scenario, are
	// not in it.
	DiskBytesPerDelivery *float64 `json:"disk_bytes_per_delivery"`
	// StatementsPerDelivery is the calls of the statements that
	// pg_stat_statements counted in the bench's database for its user
	// (transaction control included, the probe's own excluded) over the
	// deliveries; each is a round trip unless the client pipelines. Null
	// without pg_stat_statements.
	StatementsPerDelivery *float64 `json:"statements_per_delivery"`
	// Statements is those calls' total.
	Statements int64 `json:"statements"`
	// TopStatements are the statements that took the most execution time,
	// most first, at most 10.
	TopStatements []Statement `json:"top_statements,omitempty"`
	// Notes say which figures could not be read, and why.
	Notes []string `json:"notes,omitempty"`
}

// Statement is one normalized statement's share of a scenario, from
// pg_stat_statements.
type Statement struct {
	// Query is the normalized text, whitespace collapsed, cut at 120
	// characters.
	Query            string  `json:"query"`
	Calls            int64   `json:"calls"`
	CallsPerDelivery float64 `json:"calls_per_delivery"`
	TotalMs          float64 `json:"total_ms"`
	MeanMs           float64 `json:"mean_ms"`
	Rows             int64   `json:"rows"`
}

// probeMark is in every statement the probe sends, so that its own are
// told apart from the server's in pg_stat_statements.
const probeMark = "/* hookgate bench probe */ "

// dbProbe reads what a PostgreSQL server spends: its processes' CPU and
// writes on this machine, its WAL position, and pg_stat_statements.
type dbProbe struct {
	db *sql.DB
	// local: the database's host is a loopback address or a socket and
	// this machine has processes named postgres.
	local bool
	// statements: pg_stat_statements can be read.
	statements bool
	notes      []string
}

// dbReading is a dbProbe's reading at one moment.
type dbReading struct {
	at         time.Time
	lsn        string
	procs      map[int]procCost
	statements map[string]Statement // by queryid
}

// newDBProbe connects to the database at base (the URL the bench was
// given) and creates the pg_stat_statements extension there when it can.
func newDBProbe(ctx context.Context, base string) (*dbProbe, error) {
	db, err := sql.Open("pgx", base)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	p := &dbProbe{db: db}
	if _, err := db.ExecContext(ctx, probeMark+"SELECT pg_current_wal_lsn()"); err != nil {
		db.Close()
		return nil, fmt.Errorf("--database-url: read the WAL position: %w", err)
	}
	p.local = isLocalDB(base) && len(readPostgresProcs()) > 0
	if !p.local {
		p.notes = append(p.notes, "PostgreSQL's CPU and disk writes: the database is not on this machine (or its processes are not visible here)")
	}
	if _, err := db.ExecContext(ctx, probeMark+"CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
		p.notes = append(p.notes, "statements: CREATE EXTENSION pg_stat_statements: "+err.Error())
	} else if _, err := p.readStatements(ctx); err != nil {
		p.notes = append(p.notes, "statements: pg_stat_statements: "+err.Error()+" (is it in shared_preload_libraries?)")
	} else {
		p.statements = true
	}
	return p, nil
}

func (p *dbProbe) close() { p.db.Close() }

// isLocalDB reports whether a PostgreSQL URL's host is on this machine: a
// loopback address, localhost or a Unix socket directory.
func isLocalDB(dbURL string) bool {
	u, err := url.Parse(dbURL)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if h := u.Query().Get("host"); h != "" {
		host = h
	}
	if host == "" || strings.HasPrefix(host, "/") || host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// read takes a reading; what cannot be read is left empty.
func (p *dbProbe) read(ctx context.Context) (dbReading, error) {
	r := dbReading{}
	if p.statements {
		var err error
		if r.statements, err = p.readStatements(ctx); err != nil {
			return r, err
		}
	}
	if err := p.db.QueryRowContext(ctx, probeMark+"SELECT pg_current_wal_lsn()::text").Scan(&r.lsn); err != nil {
		return r, err
	}
	if p.local {
		r.procs = readPostgresProcs()
	}
	r.at = time.Now()
	return r, nil
}

// readStatements reads pg_stat_statements' entries of this database and
// user, but the probe's.
func (p *dbProbe) readStatements(ctx context.Context) (map[string]Statement, error) {
	rows, err := p.db.QueryContext(ctx, probeMark+`SELECT queryid::text, query, calls, total_exec_time, rows FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND userid = (SELECT oid FROM pg_roles WHERE rolname = current_user)
		AND queryid IS NOT NULL AND query NOT LIKE '%hookgate bench probe%'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]Statement{}
	for rows.Next() {
		var id string
		var s Statement
		if err := rows.Scan(&id, &s.Query, &s.Calls, &s.TotalMs, &s.Rows); err != nil {
			return nil, err
		}
		out[id] = s
	}
	return out, rows.Err()
}

// figures returns what was spent from r0 to r1 on n deliveries. The
// statements are the differences of two readings of pg_stat_statements,
// not a reset, which would clear every other user's figures on the server.
func (p *dbProbe) figures(ctx context.Context, r0, r1 dbReading, n int) *DBFigures {
	f := &DBFigures{Notes: p.notes}
	if n <= 0 {
		return f
	}
	per := func(v float64) float64 { return v / float64(n) }
	var wal float64
	if err := p.db.QueryRowContext(ctx, probeMark+"SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::float8", r1.lsn, r0.lsn).Scan(&wal); err == nil {
		f.WALBytesPerDelivery = per(wal)
	}
	if r0.procs != nil && r1.procs != nil {
		cpu, written, ioOK := procsSince(r0.procs, r1.procs)
		ms, cores := per(float64(cpu)/float64(time.Millisecond)), float64(cpu)/float64(r1.at.Sub(r0.at))
		f.CPUMsPerDelivery, f.CPUCores = &ms, &cores
		if ioOK {
			d := per(float64(written))
			f.DiskBytesPerDelivery = &d
		} else {
			f.Notes = append(f.Notes, "disk writes: /proc/{pid}/io of the postgres processes cannot be read (run the bench as their user or root)")
		}
	}
	if r0.statements != nil && r1.statements != nil {
		var top []Statement
		for id, s := range r1.statements {
			s0 := r0.statements[id]
			d := Statement{Query: shortQuery(s.Query), Calls: s.Calls - s0.Calls, TotalMs: s.TotalMs - s0.TotalMs, Rows: s.Rows - s0.Rows}
			if d.Calls <= 0 {
				continue
			}
			d.CallsPerDelivery, d.MeanMs = per(float64(d.Calls)), d.TotalMs/float64(d.Calls)
			f.Statements += d.Calls
			top = append(top, d)
		}
		slices.SortFunc(top, func(a, b Statement) int {
			switch {
			case a.TotalMs > b.TotalMs:
				return -1
			case a.TotalMs < b.TotalMs:
				return 1
			}
			return strings.Compare(a.Query, b.Query)
		})
		f.TopStatements = top[:min(len(top), 10)]
		v := per(float64(f.Statements))
		f.StatementsPerDelivery = &v
	}
	return f
}

// shortQuery collapses a normalized statement's whitespace and cuts it at
// 120 characters.
func shortQuery(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if r := []rune(q); len(r) > 120 {
		return string(r[:119]) + "…"
	}
	return q
}

// procCost is what one process has used: CPU time and bytes written to
// the storage layer (-1 when /proc/{pid}/io cannot be read).
type procCost struct {
	cpu   time.Duration
	write int64
}

// readPostgresProcs reads every process on this machine whose command is
// postgres: the server's backends and its background processes.
func readPostgresProcs() map[int]procCost {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	out := map[int]procCost{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		dir := "/proc/" + e.Name()
		comm, err := os.ReadFile(dir + "/comm")
		if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		c := procCost{write: -1}
		// A backend is one thread: its schedstat is the process's run time.
		if b, err := os.ReadFile(dir + "/schedstat"); err == nil {
			c.cpu, _ = parseSchedstat(string(b))
		} else if b, err := os.ReadFile(dir + "/stat"); err == nil {
			c.cpu = parseCPUTime(string(b))
		}
		if b, err := os.ReadFile(dir + "/io"); err == nil {
			c.write = parseWriteBytes(string(b))
		}
		out[pid] = c
	}
	return out
}

// procsSince sums what the processes used from r0 to r1: a process that
// began in between counts whole, one that ended loses its share. ioOK is
// false when a process's writes could not be read.
func procsSince(r0, r1 map[int]procCost) (cpu time.Duration, written int64, ioOK bool) {
	ioOK = true
	for pid, c := range r1 {
		c0 := r0[pid]
		cpu += max(0, c.cpu-c0.cpu)
		if c.write < 0 || c0.write < 0 && hasPid(r0, pid) {
			ioOK = false
			continue
		}
		written += max(0, c.write-max(0, c0.write))
	}
	return cpu, written, ioOK
}

func hasPid(m map[int]procCost, pid int) bool { _, ok := m[pid]; return ok }

// parseWriteBytes reads write_bytes from a /proc/{pid}/io; -1 when it is
// not there.
func parseWriteBytes(io string) int64 {
	for _, line := range strings.Split(io, "\n") {
		if v, ok := strings.CutPrefix(line, "write_bytes:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}

// readWriteBytes is process pid's write_bytes; -1 when it cannot be read.
func readWriteBytes(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/io")
	if err != nil {
		return -1
	}
	return parseWriteBytes(string(b))
}
