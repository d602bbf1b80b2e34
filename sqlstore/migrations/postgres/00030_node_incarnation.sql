-- +goose Up
-- The process that runs under a node's name: a random value of each start.
-- A name is held by one live process at a time (leases key on it): a
-- heartbeat that finds another incarnation's row changes nothing, and a
-- process takes a name at start only once its holder's heartbeat is stale.
-- '' for the rows of nodes registered before (any incarnation takes them).
ALTER TABLE nodes ADD COLUMN incarnation TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE nodes DROP COLUMN incarnation;
