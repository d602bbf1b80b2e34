-- +goose Up
-- Nothing on SQLite: attempts stay one table, purged by chunked DELETEs
-- (PostgreSQL partitions them by day; docs/operations.md, "Retention").
-- The migration exists so that both engines' numbers stay in step.
SELECT 1;

-- +goose Down
SELECT 1;
