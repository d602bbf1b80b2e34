-- +goose Up
-- Platforms: a project's connections to messaging providers (credentials
-- sealed), and the messages sent through them.
CREATE TABLE platforms (
    id              TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL,
    provider        TEXT NOT NULL,
    name            TEXT NOT NULL,
    credentials     TEXT NOT NULL,
    api_base_url    TEXT NOT NULL,
    registered      BIGINT NOT NULL,
    last_inbound_at BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX platforms_project ON platforms (project_id, id);

CREATE TABLE messages (
    id                  TEXT NOT NULL,
    project_id          TEXT NOT NULL,
    platform_id         TEXT NOT NULL,
    recipient           TEXT NOT NULL,
    text                TEXT NOT NULL,
    provider_message_id TEXT NOT NULL,
    status              TEXT NOT NULL,
    error               TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    PRIMARY KEY (project_id, id)
);

-- +goose Down
DROP TABLE messages;
DROP TABLE platforms;
