package sqlstore

import (
	"fmt"
	"strconv"
	"strings"
)

// On PostgreSQL, ingest and recording each write in one statement, in one
// round trip with no BEGIN or COMMIT: the rows go as one array per column,
// spread with unnest, and the writes are data-modifying CTEs of the same
// statement, which PostgreSQL applies atomically. The statement text does
// not depend on the number of rows, so pgx prepares it once per
// connection.

// pgColumns turns rows (of string, int and int64 values, the same kind in
// each column; nil for a NULL string) into one array per column, and names
// each array's type.
func pgColumns(rows [][]any, width int) (args []any, types []string) {
	args, types = make([]any, width), make([]string, width)
	for c := range width {
		kind := "text"
		if len(rows) > 0 {
			switch rows[0][c].(type) {
			case int, int64:
				kind = "bigint"
			}
		}
		types[c] = kind
		if kind == "bigint" {
			col := make([]int64, len(rows))
			for i, r := range rows {
				switch v := r[c].(type) {
				case int:
					col[i] = int64(v)
				case int64:
					col[i] = v
				}
			}
			args[c] = col
			continue
		}
		nullable := false
		for _, r := range rows {
			if r[c] == nil {
				nullable = true
				break
			}
		}
		if nullable {
			// A nil value is NULL: pgx sends a nil element as one.
			col := make([]*string, len(rows))
			for i, r := range rows {
				if v, ok := r[c].(string); ok {
					col[i] = &v
				}
			}
			args[c] = col
			continue
		}
		col := make([]string, len(rows))
		for i, r := range rows {
			col[i], _ = r[c].(string)
		}
		args[c] = col
	}
	return args, types
}

// unnestList is "unnest($n::type[], …)" for the arrays numbered from first.
func unnestList(types []string, first int) string {
	var b strings.Builder
	b.WriteString("unnest(")
	writeParams(&b, first, len(types), types, "[]")
	b.WriteString(")")
	return b.String()
}

// writeParams writes "$first, $first+1, …", n of them, each cast to its
// type in types and suffix (`::text[]`) when types is not nil.
func writeParams(b *strings.Builder, first, n int, types []string, suffix string) {
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$")
		b.WriteString(strconv.Itoa(first + i))
		if types != nil {
			b.WriteString("::")
			b.WriteString(types[i])
			b.WriteString(suffix)
		}
	}
}

// pgStatement builds one statement of data-modifying CTEs.
type pgStatement struct {
	ctes []string
	args []any
}

// insert adds "INSERT INTO table (cols) SELECT * FROM unnest(…)" of rows,
// the columns typed by the first row; none adds nothing.
//
// One row is inserted with a parameter per value instead: arrays cost the
// driver an allocation or more per column and the server an unnest, and
// one row at a time is what moderate load brings.
func (p *pgStatement) insert(table, cols string, rows [][]any) {
	switch len(rows) {
	case 0:
		return
	case 1:
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (" + cols + ") VALUES (")
		writeParams(&b, len(p.args)+1, len(rows[0]), nil, "")
		b.WriteString(")")
		p.add(b.String(), rows[0]...)
		return
	}
	width := strings.Count(cols, ",") + 1
	args, types := pgColumns(rows, width)
	p.add(fmt.Sprintf("INSERT INTO %s (%s) SELECT * FROM %s", table, cols, unnestList(types, len(p.args)+1)), args...)
}

// arrays returns the unnest list of rows' columns, typed by types, and
// adds them to the arguments. One row is a VALUES list of one parameter
// per value instead (see insert).
func (p *pgStatement) arrays(types []string, rows [][]any) string {
	if len(rows) == 1 {
		var b strings.Builder
		b.WriteString("(VALUES (")
		writeParams(&b, len(p.args)+1, len(types), types, "")
		b.WriteString("))")
		p.args = append(p.args, rows[0]...)
		return b.String()
	}
	args, _ := pgColumns(rows, len(types))
	u := unnestList(types, len(p.args)+1)
	p.args = append(p.args, args...)
	return u
}

// param adds one scalar argument and returns its placeholder.
func (p *pgStatement) param(v any) string {
	p.args = append(p.args, v)
	return "$" + strconv.Itoa(len(p.args))
}

// add adds a CTE whose placeholders follow the arguments so far.
func (p *pgStatement) add(cte string, args ...any) {
	p.ctes = append(p.ctes, cte)
	p.args = append(p.args, args...)
}

// sql is the statement: the CTEs, then final.
func (p *pgStatement) sql(final string) string {
	var b strings.Builder
	for i, c := range p.ctes {
		if i == 0 {
			b.WriteString("WITH ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString("w" + strconv.Itoa(i) + " AS (" + c + ")")
	}
	b.WriteString(" " + final)
	return b.String()
}
