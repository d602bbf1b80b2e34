-- +goose Up
-- A webhook's own delivery settings: its retry schedule ('' for the
-- project's), its request timeout in milliseconds (0 for the server's) and
-- its cap on attempts (0 for none).
ALTER TABLE webhooks ADD COLUMN retry_schedule TEXT NOT NULL DEFAULT '';
ALTER TABLE webhooks ADD COLUMN timeout_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE webhooks DROP COLUMN max_attempts;
ALTER TABLE webhooks DROP COLUMN timeout_ms;
ALTER TABLE webhooks DROP COLUMN retry_schedule;
