-- +goose Up
-- A webhook's CEL expressions (docs/filters.md): cel_filter decides whether an
-- event is delivered to it, cel_transform makes the body sent, and
-- cel_transform_headers the headers added; '' for none.
ALTER TABLE webhooks ADD COLUMN cel_filter TEXT NOT NULL DEFAULT '';
ALTER TABLE webhooks ADD COLUMN cel_transform TEXT NOT NULL DEFAULT '';
ALTER TABLE webhooks ADD COLUMN cel_transform_headers TEXT NOT NULL DEFAULT '';

-- The body an attempt sent when a transform made it (its first 64 KiB);
-- '' when the body was the event's envelope, which the event keeps.
ALTER TABLE attempts ADD COLUMN request_body TEXT NOT NULL DEFAULT '';

-- How many events a webhook's filter kept from it, per minute: rejected
-- when the filter answered false, failed when it could not answer (a
-- missing field, its cost limit), which also keeps the event from it.
-- minute is the minute's start in microseconds since the epoch.
CREATE TABLE filter_counts (
    project_id TEXT NOT NULL,
    webhook_id TEXT NOT NULL,
    minute BIGINT NOT NULL,
    rejected BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, webhook_id, minute)
);
CREATE INDEX filter_counts_minute ON filter_counts (minute);

-- +goose Down
DROP INDEX filter_counts_minute;
DROP TABLE filter_counts;
ALTER TABLE attempts DROP COLUMN request_body;
ALTER TABLE webhooks DROP COLUMN cel_transform_headers;
ALTER TABLE webhooks DROP COLUMN cel_transform;
ALTER TABLE webhooks DROP COLUMN cel_filter;
