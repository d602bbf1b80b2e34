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

-- +goose Down
DROP INDEX deliveries_ordering;
ALTER TABLE deliveries DROP COLUMN ordering_key;
ALTER TABLE webhooks DROP COLUMN ordering_key;
ALTER TABLE webhooks DROP COLUMN ordering;
