-- +goose Up
-- The webhook a direct event (a webhook's test event) was sent to; empty for
-- events published to the project. Recover leaves direct events alone.
ALTER TABLE events ADD COLUMN direct_webhook TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE events DROP COLUMN direct_webhook;
