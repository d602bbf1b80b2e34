-- +goose Up
ALTER TABLE webhooks ADD COLUMN failing_since INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE webhooks DROP COLUMN failing_since;
