-- +goose NO TRANSACTION
-- +goose Up
-- Attempts become a table partitioned by started_at (RANGE on the
-- microseconds), one partition per UTC day, so that retention drops a
-- day's partition instead of deleting its rows (sqlstore/partitions.go).
-- Done on a live database without stopping ingest or delivery for more
-- than a moment (docs/deploy.md, "Upgrading"): no transaction around the
-- whole, each step takes its own locks.
--
-- 1. A CHECK that every row started before the cutover, the start of the
--    UTC day after tomorrow, added NOT VALID: a moment of ACCESS EXCLUSIVE,
--    no scan. Attempts being recorded start now, well before it. A check
--    left by a run that failed later is made again, with a new cutover.
-- +goose StatementBegin
DO $$
BEGIN
    PERFORM set_config('lock_timeout', '10s', true);
    IF EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'attempts_before_cutover' AND conrelid = 'attempts'::regclass) THEN
        ALTER TABLE attempts DROP CONSTRAINT attempts_before_cutover;
    END IF;
    EXECUTE format('ALTER TABLE attempts ADD CONSTRAINT attempts_before_cutover CHECK (started_at < %s) NOT VALID',
        (extract(epoch FROM date_trunc('day', now() AT TIME ZONE 'UTC') + interval '2 days') * 1000000)::bigint);
END $$;
-- +goose StatementEnd

-- 2. The scan that validates it, under SHARE UPDATE EXCLUSIVE: attempts go
--    on being written and read meanwhile.
ALTER TABLE attempts VALIDATE CONSTRAINT attempts_before_cutover;

-- 3. In one short transaction: the table is renamed attempts_legacy, a
--    partitioned attempts takes its place with the same columns and
--    indexes, and attempts_legacy is attached as the partition of every
--    start before the cutover. The valid CHECK spares ATTACH its scan, and
--    its indexes are the partitioned indexes' own (same definitions), so
--    nothing is built. A DEFAULT partition takes what no other partition
--    holds, so that an insert never fails for want of a day's partition.
--    Each partition has its own primary key on id, as the table had: a
--    partitioned table's keys must include started_at, and an attempt is
--    never looked up by its ID alone.
-- +goose StatementBegin
DO $$
DECLARE
    cutover BIGINT;
BEGIN
    PERFORM set_config('lock_timeout', '10s', true);
    SELECT substring(pg_get_constraintdef(oid) FROM '(\d+)')::bigint INTO cutover
        FROM pg_constraint WHERE conname = 'attempts_before_cutover' AND conrelid = 'attempts'::regclass;
    ALTER TABLE attempts RENAME TO attempts_legacy;
    ALTER INDEX attempts_delivery RENAME TO attempts_legacy_delivery;
    ALTER INDEX attempts_webhook_time RENAME TO attempts_legacy_webhook_time;
    CREATE TABLE attempts (LIKE attempts_legacy INCLUDING DEFAULTS) PARTITION BY RANGE (started_at);
    CREATE INDEX attempts_delivery ON attempts (project_id, delivery_id, attempt);
    CREATE INDEX attempts_webhook_time ON attempts (webhook_id, started_at, status_code, duration_ms);
    EXECUTE format('ALTER TABLE attempts ATTACH PARTITION attempts_legacy FOR VALUES FROM (MINVALUE) TO (%s)', cutover);
    CREATE TABLE attempts_default PARTITION OF attempts (PRIMARY KEY (id)) DEFAULT;
END $$;
-- +goose StatementEnd

-- +goose Down
-- Offline: every attempt is copied back into one plain table.
-- +goose StatementBegin
DO $$
BEGIN
    CREATE TABLE attempts_plain (LIKE attempts INCLUDING DEFAULTS);
    INSERT INTO attempts_plain SELECT * FROM attempts;
    DROP TABLE attempts;
    ALTER TABLE attempts_plain RENAME TO attempts;
    ALTER TABLE attempts ADD PRIMARY KEY (id);
    CREATE INDEX attempts_delivery ON attempts (project_id, delivery_id, attempt);
    CREATE INDEX attempts_webhook_time ON attempts (webhook_id, started_at, status_code, duration_ms);
END $$;
-- +goose StatementEnd
