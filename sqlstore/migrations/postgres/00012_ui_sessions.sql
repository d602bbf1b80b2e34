-- +goose Up
-- Dashboard sessions: a browser's cookie names one by the SHA-256 of its
-- token. key_id is the API key it acts as ('' for the admin key, then
-- admin_key names which admin key by a hash prefix, so that a new admin key
-- ends the old one's sessions).
CREATE TABLE ui_sessions (
    id         TEXT NOT NULL PRIMARY KEY,
    key_id     TEXT NOT NULL,
    admin_key  TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX ui_sessions_expiry ON ui_sessions (expires_at);

-- +goose Down
DROP TABLE ui_sessions;
