-- +goose Up
-- Ordered delivery per key. A webhook's ordering is 'fifo' or 'none', and
-- its ordering_key the JSON Pointer into the event that gives the key. A
-- delivery of a FIFO webhook keeps its key (NULL: not ordered); the pending
-- ones of one key go in ID order, one at a time. The rows that wait behind
-- their key's head are due at 4611686018427387904 (2^62 µs: never), until
-- the head is done; the index finds a key's head.
ALTER TABLE webhooks ADD COLUMN ordering TEXT NOT NULL DEFAULT 'none';
ALTER TABLE webhooks ADD COLUMN ordering_key TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN ordering_key TEXT;
CREATE INDEX deliveries_ordering ON deliveries (webhook_id, ordering_key, id) WHERE status = 'pending' AND ordering_key IS NOT NULL;

-- The claim takes an ordered row only when no older pending row of its key
-- is due (the rows waiting behind a head do not count) and no row of its
-- key is in flight. The claims hold the advisory lock 1752133483 ('hook')
-- shared; what puts a row back in front of its key (a retry, recover,
-- redrive, an activation, the repair of a stranded key) holds it
-- exclusively, so no claim sees the key half changed: two nodes never send
-- two rows of one key at once. Each statement of a volatile function takes
-- its own snapshot, so the UPDATE sees everything committed before the lock
-- was granted.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION hookgate_claim(lease_end BIGINT, node TEXT, now_us BIGINT, batch INTEGER)
RETURNS SETOF deliveries
LANGUAGE sql VOLATILE
SET enable_bitmapscan = off
SET enable_sort = off
SET enable_seqscan = off
AS $$
    SELECT pg_advisory_xact_lock_shared(1752133483);
    UPDATE deliveries SET lease_until = lease_end, lease_node = node
    WHERE (project_id, id) IN (SELECT d.project_id, d.id FROM deliveries d
        WHERE d.status = 'pending' AND d.next_attempt_at <= now_us AND d.lease_until < now_us
          AND (d.ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM deliveries o
              WHERE o.webhook_id = d.webhook_id AND o.ordering_key = d.ordering_key AND o.status = 'pending'
                AND o.id <> d.id AND ((o.id < d.id AND o.next_attempt_at <> 4611686018427387904) OR o.lease_until >= now_us)))
        ORDER BY d.next_attempt_at LIMIT batch FOR UPDATE SKIP LOCKED)
    RETURNING *;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION hookgate_claim(lease_end BIGINT, node TEXT, now_us BIGINT, batch INTEGER)
RETURNS SETOF deliveries
LANGUAGE sql VOLATILE
SET enable_bitmapscan = off
SET enable_sort = off
SET enable_seqscan = off
AS $$
    UPDATE deliveries SET lease_until = lease_end, lease_node = node
    WHERE (project_id, id) IN (SELECT d.project_id, d.id FROM deliveries d
        WHERE d.status = 'pending' AND d.next_attempt_at <= now_us AND d.lease_until < now_us
        ORDER BY d.next_attempt_at LIMIT batch FOR UPDATE SKIP LOCKED)
    RETURNING *;
$$;
-- +goose StatementEnd
DROP INDEX deliveries_ordering;
ALTER TABLE deliveries DROP COLUMN ordering_key;
ALTER TABLE webhooks DROP COLUMN ordering_key;
ALTER TABLE webhooks DROP COLUMN ordering;
