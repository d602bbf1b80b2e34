-- +goose Up
CREATE TABLE attempts (
    id               TEXT NOT NULL PRIMARY KEY,
    project_id       TEXT NOT NULL,
    delivery_id      TEXT NOT NULL,
    attempt          BIGINT NOT NULL,
    started_at       BIGINT NOT NULL,
    duration_ms      BIGINT NOT NULL,
    status_code      BIGINT NOT NULL,
    response_headers TEXT NOT NULL,
    response_body    TEXT NOT NULL,
    error            TEXT NOT NULL
);
CREATE INDEX attempts_delivery ON attempts (project_id, delivery_id, attempt);

-- +goose Down
DROP TABLE attempts;
