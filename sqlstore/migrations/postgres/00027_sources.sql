-- +goose Up
-- A project's broker sources (docs/sources.md). config is the broker's
-- address, the kind's fields and credentials as JSON, sealed as a whole;
-- event_type is JSON ({header, pointer, default}). lease_node and
-- lease_until name the node consuming the source and until when (micros;
-- 0 for none); state is the last state that node saved, JSON ('' before).
CREATE TABLE sources (
    project_id TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    config TEXT NOT NULL,
    event_type TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    lease_node TEXT NOT NULL DEFAULT '',
    lease_until BIGINT NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (project_id, id)
);
CREATE INDEX sources_lease ON sources (status, lease_until);

-- +goose Down
DROP INDEX sources_lease;
DROP TABLE sources;
