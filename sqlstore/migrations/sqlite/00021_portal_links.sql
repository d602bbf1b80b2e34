-- +goose Up
-- Consumer portal links: a producer hands one to its customer, who opens it
-- once to get a portal session. token_hash is the SHA-256 of the URL's
-- token (the token is never stored); capabilities is a comma-separated list.
-- Times are microseconds; used_at and revoked_at are 0 until then.
CREATE TABLE portal_links (
    project_id TEXT NOT NULL,
    id TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    capabilities TEXT NOT NULL,
    return_url TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT NOT NULL DEFAULT 0,
    revoked_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX portal_links_token ON portal_links (token_hash);
-- A portal session names its link (revoking it deletes them), its project
-- and its capabilities; a key's or the admin's session has '' in each.
ALTER TABLE ui_sessions ADD COLUMN portal_link_id TEXT NOT NULL DEFAULT '';
ALTER TABLE ui_sessions ADD COLUMN project_id TEXT NOT NULL DEFAULT '';
ALTER TABLE ui_sessions ADD COLUMN capabilities TEXT NOT NULL DEFAULT '';
CREATE INDEX ui_sessions_portal_link ON ui_sessions (portal_link_id) WHERE portal_link_id <> '';

-- +goose Down
DROP INDEX ui_sessions_portal_link;
ALTER TABLE ui_sessions DROP COLUMN capabilities;
ALTER TABLE ui_sessions DROP COLUMN project_id;
ALTER TABLE ui_sessions DROP COLUMN portal_link_id;
DROP INDEX portal_links_token;
DROP TABLE portal_links;
