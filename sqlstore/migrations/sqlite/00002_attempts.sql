-- +goose Up
CREATE TABLE attempts (
    id               TEXT NOT NULL PRIMARY KEY,
    project_id       TEXT NOT NULL,
    delivery_id      TEXT NOT NULL,
    attempt          INTEGER NOT NULL,
    started_at       INTEGER NOT NULL,
    duration_ms      INTEGER NOT NULL,
    status_code      INTEGER NOT NULL,
    response_headers TEXT NOT NULL,
    response_body    TEXT NOT NULL,
    error            TEXT NOT NULL
);
CREATE INDEX attempts_delivery ON attempts (project_id, delivery_id, attempt);

-- +goose Down
DROP TABLE attempts;
