package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/hookgate/hookgate"
)

// Ordered delivery (a FIFO webhook's) in the store. A delivery of a FIFO
// webhook keeps its ordering key (deliveries.ordering_key; NULL for every
// other). The claim (ClaimDue) takes an ordered row only when it heads its
// key, no pending row of the key having a lower ID, and no row of the key
// is leased: that rule alone keeps one row of a key in flight, in ID
// order, whatever else happens. The rest is speed: the rows behind a head
// wait due at blockedUS, outside the claim's walk of due rows, and the
// head's successor is made due when the head is done (promoteKeys). A
// promotion missed by a crash between two writes is made by the next
// RepairOrdering.

// blockedUS is the due time of a row waiting behind its key's head: 2^62
// µs, which no clock reaches and no arithmetic on it overflows.
const blockedUS int64 = 1 << 62

// fifoLock is the PostgreSQL advisory lock that claims hold shared (see
// migration 00018's hookgate_claim) and that whatever puts an older row in
// front of a key's line (a retry, recover, redrive, an activation, the
// repair of a stranded key) holds exclusively in its transaction: a claim
// then sees a key's line before or after such a change, never in between,
// so two nodes cannot each take a different row of one key. Ingest and
// the recording of a head's outcome only make a key's head due when no row
// of the key is due or in flight (noneGoing), which no snapshot can see
// otherwise, so they hold the key's own lock instead (lockKeys): its
// promotion of the next row and an ingest's of its own cannot both miss
// a row that the other has not committed yet. Every holder takes its
// locks before any row lock: no deadlock.
const fifoLock = 1752133483

// lockOrdering takes fifoLock in tx on PostgreSQL until tx ends; SQLite's
// single writer needs none.
func (s *Store) lockOrdering(ctx context.Context, tx *sql.Tx) error {
	if s.engine != EnginePostgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, fifoLock)
	return err
}

// orderKey names one line of ordered deliveries.
type orderKey struct{ webhookID, key string }

// handoff leases the heads that promoteKeys makes due to the adopter's
// node (see hookgate.Adopter), which is handed them once the transaction
// commits: the next delivery of a key goes without a claim, in the write
// that recorded its predecessor. Nil makes them due for a claim.
type handoff struct {
	node  string
	until time.Time
}

// lockKeys takes, in tx on PostgreSQL until tx ends, the advisory lock of
// each key (fifoLock and a 32-bit hash of the key; two keys may share
// one), in the order of the hashes so that two writers never wait for each
// other. An ingest of ordered deliveries and the recording of a head's
// outcome hold the locks of their keys.
func (s *Store) lockKeys(ctx context.Context, tx *sql.Tx, keys []orderKey) error {
	if s.engine != EnginePostgres || len(keys) == 0 {
		return nil
	}
	seen := map[int32]bool{}
	var hs []int32
	for _, k := range keys {
		h := fnv.New32a()
		h.Write([]byte(k.webhookID))
		h.Write([]byte{0})
		h.Write([]byte(k.key))
		v := int32(h.Sum32())
		if !seen[v] {
			seen[v] = true
			hs = append(hs, v)
		}
	}
	slices.Sort(hs)
	_, err := tx.ExecContext(ctx, `SELECT count(pg_advisory_xact_lock($1::int4, h)) FROM unnest($2::int4[]) AS h`, fifoLock, hs)
	return err
}

// promoteKeySQL makes the head of a key due now if it waits as blocked,
// leased as given (0 and an empty node for none), and returns it.
const promoteKeySQL = `UPDATE deliveries SET next_attempt_at = ?, lease_until = ?, lease_node = ? WHERE next_attempt_at = ` + blockedText + `
	AND (project_id, id) IN (SELECT project_id, id FROM deliveries
		WHERE webhook_id = ? AND ordering_key = ? AND status = 'pending' ORDER BY id LIMIT 1)
	AND ` + noneGoing + `
	RETURNING ` + deliveryReadCols

// noneGoing is the condition, on a row of deliveries, that no pending
// delivery of its key is due (or leased): every one waits. Only then may
// ingest or a recorded outcome, which hold the key's lock but not the
// ordering lock, make the key's head due; if another is going, it goes
// first (an older row from a node whose clock is behind waits for it),
// and its own outcome promotes the next.
const noneGoing = `NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.webhook_id = deliveries.webhook_id
		AND o.ordering_key = deliveries.ordering_key AND o.status = 'pending' AND o.next_attempt_at <> ` + blockedText + `)`

// promoteKeysPG is promoteKeySQL for many keys at once, on PostgreSQL:
// $4 and $5 are the keys' webhooks and values.
const promoteKeysPG = `UPDATE deliveries SET next_attempt_at = $1, lease_until = $2, lease_node = $3 WHERE next_attempt_at = ` + blockedText + `
	AND (project_id, id) IN (SELECT h.project_id, h.id FROM unnest($4::text[], $5::text[]) AS k(webhook_id, key)
		CROSS JOIN LATERAL (SELECT project_id, id FROM deliveries
			WHERE webhook_id = k.webhook_id AND ordering_key = k.key AND status = 'pending' ORDER BY id LIMIT 1) h)
	AND ` + noneGoing + `
	RETURNING ` + deliveryReadCols

// blockedText is blockedUS in SQL.
const blockedText = "4611686018427387904"

// promoteKeys makes the head of each key due at now if it was waiting, in
// tx, leased to h's node when h is set, and returns the heads it made due.
func (s *Store) promoteKeys(ctx context.Context, tx *sql.Tx, now time.Time, keys []orderKey, h *handoff) ([]*hookgate.Delivery, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	lease, node := int64(0), ""
	if h != nil {
		lease, node = micros(h.until), h.node
	}
	if s.engine == EnginePostgres {
		// One round trip for them all.
		ws, ks := make([]string, len(keys)), make([]string, len(keys))
		for i, k := range keys {
			ws[i], ks[i] = k.webhookID, k.key
		}
		rows, err := tx.QueryContext(ctx, promoteKeysPG, micros(now), lease, node, ws, ks)
		return scanAll(rows, err, scanDelivery)
	}
	st, err := s.hotTx(ctx, tx, promoteKeySQL)
	if err != nil {
		return nil, err
	}
	var out []*hookgate.Delivery
	for _, k := range keys {
		rows, err := st.QueryContext(ctx, micros(now), lease, node, k.webhookID, k.key)
		ds, err := scanAll(rows, err, scanDelivery)
		if err != nil {
			return out, err
		}
		out = append(out, ds...)
	}
	return out, nil
}

// handoffFor asks the adopter, if any, for a lease for the heads a write
// makes due; nil when there is none or it has no room.
func (s *Store) handoffFor(keys []orderKey) (hookgate.Adopter, *handoff) {
	if len(keys) == 0 {
		return nil, nil
	}
	box := s.adopter.Load()
	if box == nil {
		return nil, nil
	}
	node, lease, ok := box.a.AdoptLease()
	if !ok {
		return nil, nil
	}
	return box.a, &handoff{node, s.now().Add(lease).Truncate(time.Microsecond)}
}

// promoteHeadsSQL makes due now every key head that waits as blocked,
// optionally of one webhook ("webhook_id = ?" put in its place).
const promoteHeadsSQL = `UPDATE deliveries SET next_attempt_at = ? WHERE next_attempt_at = ` + blockedText + `
	AND (project_id, id) IN (SELECT project_id, MIN(id) FROM deliveries
		WHERE %s status = 'pending' AND ordering_key IS NOT NULL GROUP BY project_id, webhook_id, ordering_key)`

// promoteWebhook makes due the waiting heads of every key of one webhook:
// after its rows were put back in line (an activation, recover, redrive).
func (s *Store) promoteWebhook(ctx context.Context, db execer, webhookID string, now time.Time) error {
	_, err := db.ExecContext(ctx, s.q(fmt.Sprintf(promoteHeadsSQL, "webhook_id = ? AND")), micros(now), webhookID)
	return err
}

// RepairOrdering makes due every key head left waiting: only a crash
// between a head's outcome and its successor's promotion (on PostgreSQL
// they are two statements) leaves one. The dispatcher runs it at start and
// then every minute. It returns how many heads it made due.
func (s *Store) RepairOrdering(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockOrdering(ctx, tx); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(fmt.Sprintf(promoteHeadsSQL, "")+" AND "+noneGoing), micros(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// requeueNext is the SQL of the due time of a delivery put back in line at
// now (a placeholder): now for an unordered row, blocked for an ordered one
// until promoteWebhook or promoteKeys makes the head of its key due.
const requeueNext = `CASE WHEN ordering_key IS NULL THEN ? ELSE ` + blockedText + ` END`

// orderingOf is w's ordering as stored: none when it is empty.
func orderingOf(w *hookgate.Webhook) string {
	if w.Ordering == "" {
		return hookgate.OrderingNone
	}
	return w.Ordering
}

// releaseOrdering ends the order of a webhook that no longer delivers in
// order: its waiting rows are due now, and none keeps a key.
func (s *Store) releaseOrdering(ctx context.Context, tx *sql.Tx, projectID, webhookID string, now time.Time) error {
	_, err := tx.ExecContext(ctx, s.q(`UPDATE deliveries SET ordering_key = NULL,
		next_attempt_at = CASE WHEN next_attempt_at = `+blockedText+` THEN ? ELSE next_attempt_at END
		WHERE project_id = ? AND webhook_id = ? AND status IN ('pending', 'paused') AND ordering_key IS NOT NULL`),
		micros(now), projectID, webhookID)
	return err
}

// resume puts a webhook's paused deliveries back in the queue, in tx: the
// unordered ones as they were, the ordered ones in line behind the head of
// their key, which is made due.
// It returns how many it put back. The caller holds the ordering lock.
func (s *Store) resume(ctx context.Context, tx *sql.Tx, webhookID string, now time.Time) (int64, error) {
	res, err := tx.ExecContext(ctx, s.q(`UPDATE deliveries SET status = 'pending', updated_at = ?,
		next_attempt_at = CASE WHEN ordering_key IS NULL THEN next_attempt_at ELSE `+blockedText+` END
		WHERE webhook_id = ? AND status = 'paused'`), micros(now), webhookID)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	if n == 0 {
		return 0, nil
	}
	return n, s.promoteWebhook(ctx, tx, webhookID, now)
}

// promoteFor makes due the waiting heads of the keys of the deliveries
// ids, after they were put back in line.
func (s *Store) promoteFor(ctx context.Context, tx *sql.Tx, projectID string, ids []string, now time.Time) error {
	args := []any{micros(now), projectID}
	for _, id := range ids {
		args = append(args, id)
	}
	_, err := tx.ExecContext(ctx, s.q(fmt.Sprintf(promoteHeadsSQL, `webhook_id IN (SELECT webhook_id FROM deliveries
		WHERE project_id = ? AND id IN (`+placeholders(len(ids))+`) AND ordering_key IS NOT NULL) AND`)), args...)
	return err
}
