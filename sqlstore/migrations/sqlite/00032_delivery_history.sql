-- +goose Up
-- SQLite keeps every delivery in one table (PostgreSQL moves finished ones
-- into a partitioned deliveries_history); delivery_rows, which reads by ID
-- or list use on both engines, is that table.
CREATE VIEW delivery_rows AS SELECT * FROM deliveries;

-- +goose Down
DROP VIEW delivery_rows;
