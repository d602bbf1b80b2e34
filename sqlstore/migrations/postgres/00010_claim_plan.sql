-- +goose Up
-- The claim, as a function with planner settings of its own: without them,
-- on a table whose statistics are missing or stale (a queue that grew in
-- the last minute), the planner reads every due row into a bitmap and
-- sorts them to take the first 256, so each claim costs time in
-- proportion to the backlog (130 ms at 200,000 due rows, against 8 ms
-- walking the due index in order). Walking the index in order never
-- depends on statistics.
-- +goose StatementBegin
CREATE FUNCTION hookgate_claim(lease_end BIGINT, node TEXT, now_us BIGINT, batch INTEGER)
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

-- +goose Down
DROP FUNCTION hookgate_claim(BIGINT, TEXT, BIGINT, INTEGER);
