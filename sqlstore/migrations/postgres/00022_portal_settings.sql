-- +goose Up
-- A project's consumer portal settings: the origins that may frame it (a
-- JSON array, '' for none), its theme (JSON: productName, accentColor,
-- mode and the logo's contentType, size, sha256, width and height; '' for
-- Hookgate's look) and the logo's bytes, read only where it is served.
ALTER TABLE projects ADD COLUMN portal_origins TEXT NOT NULL DEFAULT '';
ALTER TABLE projects ADD COLUMN portal_theme TEXT NOT NULL DEFAULT '';
ALTER TABLE projects ADD COLUMN portal_logo BYTEA;

-- +goose Down
ALTER TABLE projects DROP COLUMN portal_logo;
ALTER TABLE projects DROP COLUMN portal_theme;
ALTER TABLE projects DROP COLUMN portal_origins;
