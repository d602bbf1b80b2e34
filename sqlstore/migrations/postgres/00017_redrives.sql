-- +goose Up
-- Bulk requeues of deliveries. A redrive walks the deliveries it selects in
-- ID order; last_id is the last ID walked, moved in the same transaction as
-- the requeue of its batch, so no delivery is requeued twice by one redrive.
-- lease_until is when the node running it must have taken its next step,
-- or another may take it over.
CREATE TABLE redrives (
    project_id TEXT NOT NULL,
    id TEXT NOT NULL,
    state TEXT NOT NULL,
    selection TEXT NOT NULL,
    matched BIGINT NOT NULL DEFAULT 0,
    requeued BIGINT NOT NULL DEFAULT 0,
    last_id TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '',
    lease_until BIGINT NOT NULL DEFAULT 0,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL DEFAULT 0,
    idempotency_key TEXT NOT NULL DEFAULT '',
    body_hash TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX redrives_idempotency ON redrives (project_id, idempotency_key) WHERE idempotency_key <> '';

-- +goose Down
DROP TABLE redrives;
