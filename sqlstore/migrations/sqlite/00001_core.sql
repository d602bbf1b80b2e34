-- +goose Up
CREATE TABLE projects (
    id             TEXT PRIMARY KEY,
    slug           TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    retry_schedule TEXT NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    hash       BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX api_keys_project ON api_keys (project_id, id);

CREATE TABLE webhooks (
    id                         TEXT PRIMARY KEY,
    project_id                 TEXT NOT NULL,
    url                        TEXT NOT NULL,
    description                TEXT NOT NULL,
    events                     TEXT NOT NULL,
    secret                     TEXT NOT NULL,
    previous_secret            TEXT NOT NULL,
    previous_secret_expires_at INTEGER NOT NULL,
    auth                       TEXT NOT NULL,
    headers                    TEXT NOT NULL,
    method                     TEXT NOT NULL,
    query_params               TEXT NOT NULL,
    payload_encoding           TEXT NOT NULL,
    rate_limit                 INTEGER NOT NULL,
    metadata                   TEXT NOT NULL,
    status                     TEXT NOT NULL,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL
);
CREATE INDEX webhooks_project ON webhooks (project_id, id);

CREATE TABLE event_types (
    project_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    schema      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (project_id, name)
) WITHOUT ROWID;

CREATE TABLE events (
    id              TEXT NOT NULL,
    project_id      TEXT NOT NULL,
    type            TEXT NOT NULL,
    data            TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    deliveries      INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
);
-- events stay a rowid table: their data may be large, which WITHOUT ROWID
-- tables store badly.

CREATE TABLE idempotency_keys (
    project_id TEXT NOT NULL,
    key        TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, key)
) WITHOUT ROWID;

CREATE TABLE deliveries (
    id               TEXT NOT NULL,
    project_id       TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    webhook_id       TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    lease_until      INTEGER NOT NULL,
    last_status_code INTEGER NOT NULL,
    last_error       TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
) WITHOUT ROWID;
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, status);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';

-- +goose Down
DROP TABLE deliveries;
DROP TABLE idempotency_keys;
DROP TABLE events;
DROP TABLE event_types;
DROP TABLE webhooks;
DROP TABLE api_keys;
DROP TABLE projects;
