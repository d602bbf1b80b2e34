-- +goose Up
-- The headers of a webhook whose values are not secret; every other header
-- value is answered redacted. Existing webhooks start with none.
ALTER TABLE webhooks ADD COLUMN public_headers TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE webhooks DROP COLUMN public_headers;
