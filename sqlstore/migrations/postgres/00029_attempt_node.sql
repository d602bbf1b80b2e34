-- +goose Up
-- The node that made an attempt (its --node-name, or the name it made
-- itself); '' for the attempts made before nodes were recorded.
ALTER TABLE attempts ADD COLUMN node TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE attempts DROP COLUMN node;
