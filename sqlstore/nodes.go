package sqlstore

import (
	"context"
	"database/sql"
	"time"
)

// releaseSQL gives back leased pending rows, due as they were; the
// condition on lease_node follows.
const releaseSQL = `UPDATE deliveries SET lease_until = 0, lease_node = '' WHERE status = 'pending' AND lease_until > 0 AND `

// heartbeatSQL registers a node or records its latest heartbeat: id,
// started_at, heartbeat_at.
const heartbeatSQL = `INSERT INTO nodes (id, started_at, heartbeat_at) VALUES (?, ?, ?)
	ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`

// Heartbeat records that node is alive at now, registering it on its first
// beat.
func (s *Store) Heartbeat(ctx context.Context, node string, now time.Time) error {
	_, err := s.write.ExecContext(ctx, s.q(heartbeatSQL), node, micros(now), micros(now))
	return err
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
			res, err := tx.ExecContext(ctx, s.q(releaseSQL+`lease_node = ?`), id)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += k
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM nodes WHERE id = ?`), id); err != nil {
				return err
			}
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

// Leave gives back the pending rows still leased to node, which stopped
// (rows adopted at their birth as it stopped, not yet routed), forgets it,
// and returns how many rows it gave back.
func (s *Store) Leave(ctx context.Context, node string) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(releaseSQL+`lease_node = ?`), node)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		_, err = tx.ExecContext(ctx, s.q(`DELETE FROM nodes WHERE id = ?`), node)
		return err
	})
	return n, err
}
