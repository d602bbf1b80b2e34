package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookgate/hookgate/secrets"
)

// The keys recorded in key_fingerprints.
const (
	encryptionKeyName = "encryption"
	adminKeyName      = "admin"
)

// adminDigestPurpose is the purpose of the admin key's digest
// (secrets.Box.Digest).
const adminDigestPurpose = "hookgate admin key"

// EncryptionKeyError reports that the store's encryption key is not the
// database's: it differs from the fingerprint recorded, or, before one was
// recorded, a stored sealed value does not open with it.
type EncryptionKeyError struct {
	// Fingerprint is the store's key's (secrets.Box.Fingerprint).
	Fingerprint string
	// Recorded is the database's; empty when none was recorded yet.
	Recorded string
	// Value names the stored value that did not open, when none was
	// recorded.
	Value string
	// Old is the fingerprint of the previous key given to a rotation, if
	// any.
	Old string
}

func (e *EncryptionKeyError) Error() string {
	if e.Recorded == "" {
		return fmt.Sprintf("sqlstore: the encryption key (fingerprint %s) does not open the secrets stored in the database (%s)", e.Fingerprint, e.Value)
	}
	if e.Old != "" {
		return fmt.Sprintf("sqlstore: the database's encryption key has fingerprint %s: neither the new key (%s) nor the old one (%s)", e.Recorded, e.Fingerprint, e.Old)
	}
	return fmt.Sprintf("sqlstore: the encryption key (fingerprint %s) is not the database's (fingerprint %s)", e.Fingerprint, e.Recorded)
}

// AdminKeyError reports that a node's admin key is not the one the other
// live nodes run with.
type AdminKeyError struct {
	// Live names the other nodes alive on the database.
	Live []string
}

func (e *AdminKeyError) Error() string {
	return fmt.Sprintf("sqlstore: the admin key is not the one the live nodes run with (%s)", strings.Join(e.Live, ", "))
}

// CheckEncryptionKey makes sure the store's encryption key is the one the
// database's secrets are sealed with, so that no node runs with a key of
// its own. The first time (a new database, or one from before fingerprints
// were recorded) it records the key's fingerprint, once a stored sealed
// value, if there is one, opens with the key: an upgrade never records a
// wrong key. Afterwards the recorded fingerprint must be the key's. node
// names who records it. Error: *EncryptionKeyError.
func (s *Store) CheckEncryptionKey(ctx context.Context, node string) error {
	recorded, err := s.recordedFingerprint(ctx, encryptionKeyName)
	if err != nil {
		return err
	}
	if recorded == "" {
		if value, err := s.openOneSealed(ctx); err != nil {
			if !errors.Is(err, secrets.ErrOpen) {
				return err
			}
			return &EncryptionKeyError{Fingerprint: s.box.Fingerprint(), Value: value}
		}
		// Two nodes may get here at once: the first record stands.
		if _, err := s.write.ExecContext(ctx, s.q(`INSERT INTO key_fingerprints (name, fingerprint, node, recorded_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO NOTHING`), encryptionKeyName, s.box.Fingerprint(), node, micros(s.now())); err != nil {
			return err
		}
		if recorded, err = s.recordedFingerprint(ctx, encryptionKeyName); err != nil {
			return err
		}
	}
	if recorded != s.box.Fingerprint() {
		return &EncryptionKeyError{Fingerprint: s.box.Fingerprint(), Recorded: recorded}
	}
	return nil
}

// CheckRotation makes sure that a rotation to the store's key, from old
// (nil when none is given), works on this database: the fingerprint it
// records, if any, is the store's key's or old's. Error:
// *EncryptionKeyError.
func (s *Store) CheckRotation(ctx context.Context, old *secrets.Box) error {
	recorded, err := s.recordedFingerprint(ctx, encryptionKeyName)
	if err != nil || recorded == "" || recorded == s.box.Fingerprint() || (old != nil && recorded == old.Fingerprint()) {
		return err
	}
	e := &EncryptionKeyError{Fingerprint: s.box.Fingerprint(), Recorded: recorded}
	if old != nil {
		e.Old = old.Fingerprint()
	}
	return e
}

// RecordEncryptionKey records the store's key as the database's, once
// every stored value is sealed with it (Reseal, in a rotation). The admin
// key's digest was made under the previous key and is forgotten when the
// key changes: the next node to start records its own.
func (s *Store) RecordEncryptionKey(ctx context.Context, node string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE key_fingerprints SET fingerprint = ?, node = ?, recorded_at = ? WHERE name = ? AND fingerprint <> ?`),
			s.box.Fingerprint(), node, micros(s.now()), encryptionKeyName, s.box.Fingerprint())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			_, err := tx.ExecContext(ctx, s.q(`DELETE FROM key_fingerprints WHERE name = ?`), adminKeyName)
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO key_fingerprints (name, fingerprint, node, recorded_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO NOTHING`), encryptionKeyName, s.box.Fingerprint(), node, micros(s.now()))
		return err
	})
}

// CheckAdminKey registers node as alive at now, running with adminKey,
// when that is the admin key the database records, or when no other node
// is alive (its latest heartbeat at or after live): then adminKey
// replaces the record, which is how the admin key changes: restart every
// node with the new one. Alone says that no other node can run (the
// embedded store's lock), whatever the nodes table holds. The record is a
// digest of the key keyed by the encryption key (secrets.Box.Digest),
// never the key. It reports whether adminKey replaced another. Error:
// *AdminKeyError.
func (s *Store) CheckAdminKey(ctx context.Context, node, adminKey string, now, live time.Time, alone bool) (bool, error) {
	digest := s.box.Digest(adminDigestPurpose, adminKey)
	replaced := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// The insert, or the lock on the row (PostgreSQL; a SQLite write
		// transaction is alone anyway), makes nodes starting at once check
		// one after the other: each sees the nodes registered before it.
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO key_fingerprints (name, fingerprint, node, recorded_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO NOTHING`), adminKeyName, digest, node, micros(now))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			lock := ""
			if s.engine == EnginePostgres {
				lock = " FOR UPDATE"
			}
			var recorded string
			if err := tx.QueryRowContext(ctx, s.q(`SELECT fingerprint FROM key_fingerprints WHERE name = ?`+lock), adminKeyName).Scan(&recorded); err != nil {
				return err
			}
			if recorded != digest {
				if !alone {
					others, err := liveNodes(ctx, s, tx, node, live)
					if err != nil {
						return err
					}
					if len(others) > 0 {
						return &AdminKeyError{Live: others}
					}
				}
				if _, err := tx.ExecContext(ctx, s.q(`UPDATE key_fingerprints SET fingerprint = ?, node = ?, recorded_at = ? WHERE name = ?`),
					digest, node, micros(now), adminKeyName); err != nil {
					return err
				}
				replaced = true
			}
		}
		_, err = tx.ExecContext(ctx, s.q(heartbeatSQL), node, micros(now), micros(now))
		return err
	})
	return replaced, err
}

// liveNodes lists the nodes other than node whose latest heartbeat is at
// or after live.
func liveNodes(ctx context.Context, s *Store, tx *sql.Tx, node string, live time.Time) ([]string, error) {
	return scanStrings(tx.QueryContext(ctx, s.q(`SELECT id FROM nodes WHERE id <> ? AND heartbeat_at >= ? ORDER BY id`), node, micros(live)))
}

// scanStrings reads the one text column of every row of a query.
func scanStrings(rows *sql.Rows, err error) ([]string, error) {
	return scanAll(rows, err, func(r scanner) (string, error) {
		var v string
		return v, r.Scan(&v)
	})
}

// recordedFingerprint returns the fingerprint recorded for name, or "".
func (s *Store) recordedFingerprint(ctx context.Context, name string) (string, error) {
	var fp string
	err := s.write.QueryRowContext(ctx, s.q(`SELECT fingerprint FROM key_fingerprints WHERE name = ?`), name).Scan(&fp)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return fp, err
}

// openOneSealed opens the first stored sealed value it finds, if any. When
// that does not open with the store's key, it returns the value's place
// and an error that wraps secrets.ErrOpen.
func (s *Store) openOneSealed(ctx context.Context) (string, error) {
	for _, t := range sealedColumns {
		for _, c := range t.columns {
			at, sealed, err := s.oneSealed(ctx, t.table, c)
			if err != nil {
				return "", err
			}
			if at == "" {
				continue
			}
			if _, err := s.box.OpenFor(sealed, at); err != nil {
				return at, err
			}
			return "", nil
		}
	}
	return "", nil
}

// oneSealed finds a value of table.column that is sealed, and where; ""
// when there is none. Values stored in plain text before their column was
// sealed (webhook URLs of older versions) are passed over: Reseal seals
// them once the key is known to be right.
func (s *Store) oneSealed(ctx context.Context, table, column string) (at, sealed string, err error) {
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT project_id, id, `+column+` FROM `+table+` WHERE `+column+` <> '' LIMIT 100`))
	if err != nil {
		return "", "", err
	}
	defer rows.Close()
	for rows.Next() {
		var project, id, v string
		if err := rows.Scan(&project, &id, &v); err != nil {
			return "", "", err
		}
		if secrets.Sealed(v) {
			return where(table+"."+column, project, id), v, nil
		}
	}
	return "", "", rows.Err()
}
