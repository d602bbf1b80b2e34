package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// insertChunks are the row counts of the multi-row INSERT statements that
// insertRows uses. A few fixed sizes keep the statement texts few, so that
// they are prepared once (SQLite) or hit pgx's statement cache (PostgreSQL)
// instead of being parsed for every batch.
var insertChunks = []int{256, 64, 16, 4, 1}

// insertRows inserts rows with multi-row INSERT statements.
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, table, cols string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	width := len(rows[0])
	// Sized for the largest statement this call runs, not the largest
	// there is: one row is the common case under light load.
	args := make([]any, 0, min(len(rows), insertChunks[0])*width)
	for len(rows) > 0 {
		n := insertChunks[len(insertChunks)-1]
		for _, c := range insertChunks {
			if c <= len(rows) {
				n = c
				break
			}
		}
		stmt, err := s.insertStmt(table, n)
		if err != nil {
			return err
		}
		args = args[:0]
		for _, row := range rows[:n] {
			args = append(args, row...)
		}
		if _, err := tx.StmtContext(ctx, stmt).ExecContext(ctx, args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

type stmtKey struct {
	table string
	rows  int
}

// insertTables are the tables written with insertRows.
var insertTables = []struct{ name, cols string }{{"events", eventCols}, {"deliveries", ingestDeliveryCols}, {"attempts", attemptCols}}

// prepareInserts prepares every multi-row INSERT once. It must run outside a
// transaction: SQLite's only writer connection is busy during one.
func (s *Store) prepareInserts(ctx context.Context) error {
	if s.prepared.Load() {
		return nil
	}
	for _, t := range insertTables {
		width := strings.Count(t.cols, ",") + 1
		for _, n := range insertChunks {
			key := stmtKey{t.name, n}
			if _, ok := s.stmts.Load(key); ok {
				continue
			}
			st, err := s.write.PrepareContext(ctx, insertSQL(s.engine, t.name, t.cols, width, n))
			if err != nil {
				return err
			}
			s.stmts.Store(key, st)
		}
	}
	for _, q := range s.hotWrites() {
		if _, err := s.prepare(ctx, s.write, q); err != nil {
			return err
		}
	}
	s.prepared.Store(true)
	return nil
}

// hotWrites are the statements run inside the ingest and record
// transactions, prepared once by prepareInserts.
func (s *Store) hotWrites() []string {
	qs := []string{streakSQL(true), streakSQL(false), claimKeySQL}
	if s.engine == EngineSQLite {
		qs = append(qs, moveOneSQL, promoteKeySQL) // moveOneSQL has numbered placeholders: SQLite's own
	}
	return qs
}

// insertStmt returns the prepared INSERT of n rows into table.
func (s *Store) insertStmt(table string, n int) (*sql.Stmt, error) {
	st, ok := s.stmts.Load(stmtKey{table, n})
	if !ok {
		return nil, fmt.Errorf("sqlstore: no prepared insert into %s of %d rows", table, n)
	}
	return st.(*sql.Stmt), nil
}

func insertSQL(engine, table, cols string, width, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + cols + ") VALUES ")
	p := 0
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for j := range width {
			if j > 0 {
				b.WriteByte(',')
			}
			p++
			if engine == EnginePostgres {
				b.WriteString("$" + strconv.Itoa(p))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}
