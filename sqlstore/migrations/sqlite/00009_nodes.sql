-- +goose Up
-- The nodes running a dispatcher on this database, each with its latest
-- heartbeat. A claimed delivery names the node holding its lease, so that
-- the rows of a node that stopped beating are taken over at once instead
-- of when their lease ends.
CREATE TABLE nodes (
    id           TEXT PRIMARY KEY,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);
ALTER TABLE deliveries ADD COLUMN lease_node TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE deliveries DROP COLUMN lease_node;
DROP TABLE nodes;
