-- +goose Up
-- The configuration of a webhook's destination of a kind other than http
-- (destination names the kind): JSON of its url, its kind's fields and its
-- auth, sealed as a whole as the webhook's other secrets; '' for none.
ALTER TABLE webhooks ADD COLUMN destination_config TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE webhooks DROP COLUMN destination_config;
