package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hookgate/hookgate"
)

// releaseSQL gives back leased pending rows, due as they were; the
// condition on lease_node follows.
const releaseSQL = `UPDATE deliveries SET lease_until = 0, lease_node = '' WHERE status = 'pending' AND lease_until > 0 AND `

// heartbeatSQL registers a node or records its latest heartbeat: id,
// started_at, heartbeat_at. It leaves the incarnation as it is: CheckAdminKey
// registers with it the node serve has just claimed (ClaimNodeName).
const heartbeatSQL = `INSERT INTO nodes (id, started_at, heartbeat_at) VALUES (?, ?, ?)
	ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`

// beatSQL is a process's heartbeat under its node's name: id, incarnation,
// started_at, heartbeat_at. It changes nothing when another incarnation
// holds the name; a row with an empty incarnation (registered before
// incarnations were, or by CheckAdminKey alone) becomes this one's.
const beatSQL = `INSERT INTO nodes (id, incarnation, started_at, heartbeat_at) VALUES (?, ?, ?, ?)
	ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, incarnation = excluded.incarnation
	WHERE nodes.incarnation = excluded.incarnation OR nodes.incarnation = ''`

// Heartbeat records that node, run by incarnation, is alive at now,
// registering it on its first beat. Error: hookgate.ErrNodeNameTaken when
// another incarnation holds the name.
func (s *Store) Heartbeat(ctx context.Context, node, incarnation string, now time.Time) error {
	res, err := s.write.ExecContext(ctx, s.q(beatSQL), node, incarnation, micros(now), micros(now))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return hookgate.ErrNodeNameTaken
	}
	return nil
}

// ClaimNodeName takes node's name for incarnation at now, unless another
// incarnation holds it with a heartbeat at or after stale: it then returns
// that heartbeat, and changes nothing. A name taken from an incarnation
// whose heartbeat is stale (a process killed, restarted under the same
// name) has its pending rows given back, due as they were, before this
// one claims any; it returns how many. The caller that found the name
// held watches the heartbeat: one that moves is a live process's.
func (s *Store) ClaimNodeName(ctx context.Context, node, incarnation string, now, stale time.Time) (held time.Time, released int64, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		held, released = time.Time{}, 0
		lock := ""
		if s.engine == EnginePostgres {
			lock = " FOR UPDATE"
		}
		var holder string
		var beat int64
		err := tx.QueryRowContext(ctx, s.q(`SELECT incarnation, heartbeat_at FROM nodes WHERE id = ?`+lock), node).Scan(&holder, &beat)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case holder != incarnation && beat >= micros(stale):
			held = fromMicros(beat)
			return nil
		}
		res, err := tx.ExecContext(ctx, s.q(releaseSQL+`lease_node = ?`), node)
		if err != nil {
			return err
		}
		released, _ = res.RowsAffected()
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO nodes (id, incarnation, started_at, heartbeat_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET incarnation = excluded.incarnation, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`),
			node, incarnation, micros(now), micros(now))
		return err
	})
	return held, released, err
}

// TakeOver gives back to the queue, due as they were, the pending rows
// leased by the nodes other than node whose latest heartbeat is before
// stale, forgets those nodes, and returns how many nodes and rows. A node
// that was only cut off and comes back finds its leases changed:
// RecordAttempts keeps the state the new holder writes, and the node
// registers again with its next heartbeat.
func (s *Store) TakeOver(ctx context.Context, node string, stale time.Time) (int64, int64, error) {
	var nodes, n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		nodes, n = 0, 0
		rows, err := tx.QueryContext(ctx, s.q(`SELECT id FROM nodes WHERE heartbeat_at < ? AND id <> ?`), micros(stale), node)
		if err != nil {
			return err
		}
		var dead []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			dead = append(dead, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range dead {
			// Forgotten only if still stale: a process that has just taken
			// the name (ClaimNodeName) keeps it, and its rows.
			res, err := tx.ExecContext(ctx, s.q(`DELETE FROM nodes WHERE id = ? AND heartbeat_at < ?`), id, micros(stale))
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 0 {
				continue
			}
			if res, err = tx.ExecContext(ctx, s.q(releaseSQL+`lease_node = ?`), id); err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += k
			nodes++
		}
		return nil
	})
	return nodes, n, err
}

// ReleaseLeases gives back every pending row leased by a node other than
// node, and forgets the other nodes. Only a node that is sure to be alone
// on the store may call it: on the embedded store, serve holds the data
// dir's lock, so any lease found at start-up belongs to a process that
// died.
func (s *Store) ReleaseLeases(ctx context.Context, node string) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(releaseSQL+`lease_node <> ?`), node)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		_, err = tx.ExecContext(ctx, s.q(`DELETE FROM nodes WHERE id <> ?`), node)
		return err
	})
	return n, err
}

// Leave gives back the pending rows still leased to node, which
// incarnation ran and which stopped (rows adopted at their birth as it
// stopped, not yet routed), forgets it, and returns how many rows it gave
// back. When another incarnation holds the name now, the rows are its:
// Leave changes nothing.
func (s *Store) Leave(ctx context.Context, node, incarnation string) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		n = 0
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM nodes WHERE id = ? AND incarnation IN (?, '')`), node, incarnation); err != nil {
			return err
		}
		var other int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM nodes WHERE id = ?`), node).Scan(&other); err != nil || other > 0 {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(releaseSQL+`lease_node = ?`), node)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}
