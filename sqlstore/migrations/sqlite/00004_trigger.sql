-- +goose Up
-- Trigger (synchronous invocations): a webhook's client-chosen uid, the JSON
-- Schema of its trigger data, the next step of its chain and whether only
-- triggers call it; a delivery's
-- kind, chain and (sealed) trigger input, kept for a retry by hand; what an
-- attempt sent, and how its response body is encoded.
ALTER TABLE webhooks ADD COLUMN uid TEXT NOT NULL DEFAULT '';
ALTER TABLE webhooks ADD COLUMN trigger_schema TEXT NOT NULL DEFAULT '';
ALTER TABLE webhooks ADD COLUMN then_step TEXT NOT NULL DEFAULT '';
ALTER TABLE webhooks ADD COLUMN trigger_only BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX webhooks_uid ON webhooks (project_id, uid) WHERE uid <> '';
ALTER TABLE deliveries ADD COLUMN kind TEXT NOT NULL DEFAULT 'event';
ALTER TABLE deliveries ADD COLUMN chain_id TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN request TEXT NOT NULL DEFAULT '';
CREATE INDEX deliveries_trigger_request ON deliveries (created_at) WHERE request <> '';
ALTER TABLE attempts ADD COLUMN request_method TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN request_url TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN request_headers TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN response_body_encoding TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE attempts DROP COLUMN response_body_encoding;
ALTER TABLE attempts DROP COLUMN request_headers;
ALTER TABLE attempts DROP COLUMN request_url;
ALTER TABLE attempts DROP COLUMN request_method;
DROP INDEX deliveries_trigger_request;
ALTER TABLE deliveries DROP COLUMN request;
ALTER TABLE deliveries DROP COLUMN chain_id;
ALTER TABLE deliveries DROP COLUMN kind;
DROP INDEX webhooks_uid;
ALTER TABLE webhooks DROP COLUMN trigger_only;
ALTER TABLE webhooks DROP COLUMN then_step;
ALTER TABLE webhooks DROP COLUMN trigger_schema;
ALTER TABLE webhooks DROP COLUMN uid;
