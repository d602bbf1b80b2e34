-- +goose Up
-- PostgreSQL's 00010 makes the claim a function with planner settings of
-- its own; SQLite's planner walks the due index without them. This file
-- keeps both engines at the same schema version.
SELECT 1;

-- +goose Down
SELECT 1;
