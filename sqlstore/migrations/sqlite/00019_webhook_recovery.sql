-- +goose Up
-- autoRecover of a webhook and of a project: NULL takes the project's (or
-- the server's: on), 0 off, 1 on.
ALTER TABLE webhooks ADD COLUMN auto_recover INTEGER;
ALTER TABLE projects ADD COLUMN auto_recover INTEGER;

-- The probing of a webhook Hookgate disabled, one row while it is
-- disabled. Times are Unix microseconds; next_probe_at and ends_at are 0
-- until a node schedules the first probe. A table of its own, so that
-- moving next_probe_at at each probe does not touch the webhooks rows
-- that nodes cache.
CREATE TABLE webhook_recovery (
    webhook_id       TEXT PRIMARY KEY,
    project_id       TEXT NOT NULL,
    disabled_at      BIGINT NOT NULL,
    next_probe_at    BIGINT NOT NULL DEFAULT 0,
    ends_at          BIGINT NOT NULL DEFAULT 0,
    probes           INTEGER NOT NULL DEFAULT 0,
    last_probe_at    BIGINT NOT NULL DEFAULT 0,
    last_status_code INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    stopped          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX webhook_recovery_due ON webhook_recovery (next_probe_at);

-- Webhooks disabled before this version are probed too, from the time
-- they were last changed.
INSERT INTO webhook_recovery (webhook_id, project_id, disabled_at)
    SELECT id, project_id, updated_at FROM webhooks WHERE status = 'disabled';

-- +goose Down
DROP TABLE webhook_recovery;
ALTER TABLE projects DROP COLUMN auto_recover;
ALTER TABLE webhooks DROP COLUMN auto_recover;
