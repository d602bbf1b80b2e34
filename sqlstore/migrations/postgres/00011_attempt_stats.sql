-- +goose Up
-- Attempts name their webhook, and two covering indexes serve the stats of
-- a webhook and of a project over a window of time (GET …/stats): the sums
-- and the duration histogram are read from the index alone.
ALTER TABLE attempts ADD COLUMN webhook_id TEXT NOT NULL DEFAULT '';
UPDATE attempts SET webhook_id = COALESCE((SELECT d.webhook_id FROM deliveries d
    WHERE d.project_id = attempts.project_id AND d.id = attempts.delivery_id), '');
CREATE INDEX attempts_webhook_time ON attempts (project_id, webhook_id, started_at, status_code, duration_ms);
CREATE INDEX attempts_project_time ON attempts (project_id, started_at, status_code, duration_ms);

-- +goose Down
DROP INDEX attempts_project_time;
DROP INDEX attempts_webhook_time;
ALTER TABLE attempts DROP COLUMN webhook_id;
