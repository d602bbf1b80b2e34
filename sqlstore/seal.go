package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/hookgate/hookgate/secrets"
)

// where names the place a sealed value is stored: its table and column
// and the ids of its row. A sealed value opens only where it was sealed.
func where(column, projectID, id string) string {
	return column + "/" + projectID + "/" + id
}

// sealedColumns are the sealed columns of each table, with the table's
// row ids. plain names a column that databases made before it was sealed
// hold in plain text; Reseal seals those values.
var sealedColumns = []struct {
	table   string
	columns []string
	plain   string
}{
	{"webhooks", []string{"url", "secret", "previous_secret", "auth", "headers", "signature", "tls", "destination_config"}, "url"},
	{"platforms", []string{"credentials"}, ""},
	{"deliveries", []string{"request"}, ""},
	{"sources", []string{"config"}, ""},
}

// Reseal seals again, with the store's key and bound to where it is stored,
// every sealed value that is not so already: values of the first scheme
// (bound to nothing), values stored in plain text before their column was
// sealed (webhook URLs), and, given old, values sealed with the old key (key
// rotation). It works a page of rows at a time and can be run again after
// an interruption; it returns how many values it sealed again.
func (s *Store) Reseal(ctx context.Context, old *secrets.Box) (int, error) {
	defer s.webhooksChanged(ctx)
	total := 0
	for _, t := range sealedColumns {
		cond := make([]string, len(t.columns))
		for i, c := range t.columns {
			// Not empty and not sealed by this key in the current scheme.
			cond[i] = "(" + c + " <> '' AND " + c + " NOT LIKE 'v2:" + s.box.KeyID() + ":%')"
		}
		cursor := ""
		for {
			rows, err := s.read.QueryContext(ctx, s.q(`SELECT project_id, id, `+strings.Join(t.columns, ", ")+` FROM `+t.table+
				` WHERE id > ? AND (`+strings.Join(cond, " OR ")+`) ORDER BY id LIMIT 200`), cursor)
			if err != nil {
				return total, err
			}
			type row struct {
				project, id string
				vals        []string
			}
			var batch []row
			for rows.Next() {
				r := row{vals: make([]string, len(t.columns))}
				dest := []any{&r.project, &r.id}
				for i := range r.vals {
					dest = append(dest, &r.vals[i])
				}
				if err := rows.Scan(dest...); err != nil {
					rows.Close()
					return total, err
				}
				batch = append(batch, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return total, err
			}
			if len(batch) == 0 {
				break
			}
			cursor = batch[len(batch)-1].id
			err = s.tx(ctx, func(tx *sql.Tx) error {
				for _, r := range batch {
					set := make([]string, len(t.columns))
					args := make([]any, 0, len(t.columns)+2)
					for i, c := range t.columns {
						v := r.vals[i]
						if !s.box.Current(v) {
							at := where(t.table+"."+c, r.project, r.id)
							plain, err := s.box.OpenFor(v, at)
							if err != nil && old != nil {
								plain, err = old.OpenFor(v, at)
							}
							if err != nil && c == t.plain && !secrets.Sealed(v) {
								plain, err = v, nil // stored before the column was sealed
							}
							if err != nil {
								return fmt.Errorf("%s.%s of %s: %w", t.table, c, r.id, err)
							}
							v = s.box.SealFor(plain, at)
							total++
						}
						set[i] = c + " = ?"
						args = append(args, v)
					}
					args = append(args, r.project, r.id)
					if _, err := tx.ExecContext(ctx, s.q(`UPDATE `+t.table+` SET `+strings.Join(set, ", ")+` WHERE project_id = ? AND id = ?`), args...); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// KeyID names the store's encryption key (a digest of it).
func (s *Store) KeyID() string { return s.box.KeyID() }

// KeyFingerprint is the store's encryption key's fingerprint, the one
// CheckEncryptionKey records and compares (secrets.Box.Fingerprint).
func (s *Store) KeyFingerprint() string { return s.box.Fingerprint() }

// Digest is a digest of value for purpose keyed by the store's encryption
// key (secrets.Box.Digest): the same on every node, and of no use to test
// guesses of value without the key.
func (s *Store) Digest(purpose, value string) string { return s.box.Digest(purpose, value) }
