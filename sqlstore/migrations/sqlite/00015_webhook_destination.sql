-- +goose Up
-- The kind of destination a webhook's deliveries go to; '' is HTTP, which
-- every existing webhook is.
ALTER TABLE webhooks ADD COLUMN destination TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE webhooks DROP COLUMN destination;
