-- +goose Up
-- A digest of the event an idempotency key first created, so that the same
-- key with another body is told apart from a retry.
ALTER TABLE idempotency_keys ADD COLUMN body_hash TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE idempotency_keys DROP COLUMN body_hash;
