-- +goose Up
-- Attempts name their webhook, and one covering index serves the stats of
-- a webhook, and of a project webhook by webhook, over a window of time
-- (GET …/stats): the sums and the duration histogram are read from the
-- index alone. One index, not one per scope: each costs every recorded
-- attempt a B-tree write (a second one cost fanout 13 % on SQLite).
ALTER TABLE attempts ADD COLUMN webhook_id TEXT NOT NULL DEFAULT '';
UPDATE attempts SET webhook_id = COALESCE((SELECT d.webhook_id FROM deliveries d
    WHERE d.project_id = attempts.project_id AND d.id = attempts.delivery_id), '');
CREATE INDEX attempts_webhook_time ON attempts (webhook_id, started_at, status_code, duration_ms);

-- +goose Down
DROP INDEX attempts_webhook_time;
ALTER TABLE attempts DROP COLUMN webhook_id;
