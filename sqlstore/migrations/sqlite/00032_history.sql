-- +goose Up
-- SQLite keeps every delivery and event in one table each (PostgreSQL
-- moves finished deliveries and purged events into partitioned history
-- tables); delivery_rows and event_rows, which reads by ID or list use on
-- both engines, are those tables.
CREATE VIEW delivery_rows AS SELECT * FROM deliveries;
CREATE VIEW event_rows AS SELECT * FROM events;

-- +goose Down
DROP VIEW event_rows;
DROP VIEW delivery_rows;
