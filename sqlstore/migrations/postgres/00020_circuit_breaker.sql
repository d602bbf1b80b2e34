-- +goose Up
-- Circuit breakers. The settings of a webhook and of a project: failures
-- (0 takes the next level's, -1 turns the breaker off) and the first
-- cooldown in milliseconds (0 takes the next level's). And each webhook's
-- circuit, one fact for every node: a row once an attempt of the webhook
-- failed; no row is a closed circuit with no failure counted.
ALTER TABLE webhooks ADD COLUMN breaker_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN breaker_cooldown_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN breaker_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN breaker_cooldown_ms BIGINT NOT NULL DEFAULT 0;
CREATE TABLE circuits (
    project_id TEXT NOT NULL,
    webhook_id TEXT NOT NULL,
    state TEXT NOT NULL,
    since BIGINT NOT NULL,
    opened_at BIGINT NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    cooldown_ms BIGINT NOT NULL DEFAULT 0,
    next_probe_at BIGINT NOT NULL DEFAULT 0,
    probe TEXT NOT NULL DEFAULT '',
    probe_until BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, webhook_id)
);
-- Every node reads the circuits that are not clean every second.
CREATE INDEX circuits_unclean ON circuits (project_id, webhook_id) WHERE state <> 'closed' OR failures > 0;

-- +goose Down
DROP INDEX circuits_unclean;
DROP TABLE circuits;
ALTER TABLE projects DROP COLUMN breaker_cooldown_ms;
ALTER TABLE projects DROP COLUMN breaker_failures;
ALTER TABLE webhooks DROP COLUMN breaker_cooldown_ms;
ALTER TABLE webhooks DROP COLUMN breaker_failures;
