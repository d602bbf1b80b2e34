-- +goose Up
-- Finished event deliveries move out of the hot deliveries table into
-- deliveries_history, partitioned by ID (RANGE on id, one partition per
-- UTC month: IDs begin with their event's time), once created more than a
-- day ago (sqlstore/history.go). The table that ingest, claims and outcomes
-- write keeps one day of rows plus what is still pending, whatever the
-- retention; reads by ID or list see both through delivery_rows.
-- Partitioning deliveries themselves was measured and refused: every
-- claim and outcome statement then paid for each partition
-- (docs/performance.md).
--
-- deliveries_history has deliveries' columns in deliveries' order (rows
-- move as SELECT *): a migration that adds a column to deliveries adds it
-- to deliveries_history too and makes delivery_rows again
-- (TestDeliveryHistoryColumns).
CREATE TABLE deliveries_history (LIKE deliveries INCLUDING DEFAULTS) PARTITION BY RANGE (id);
ALTER TABLE deliveries_history ADD PRIMARY KEY (project_id, id);
CREATE INDEX deliveries_history_webhook ON deliveries_history (webhook_id, status);
-- Rows of a month that has no partition yet (none before the first
-- maintenance, which makes this month's and the next).
CREATE TABLE deliveries_history_default PARTITION OF deliveries_history DEFAULT;
CREATE VIEW delivery_rows AS SELECT * FROM deliveries UNION ALL SELECT * FROM deliveries_history;

-- +goose Down
DROP VIEW delivery_rows;
INSERT INTO deliveries SELECT * FROM deliveries_history;
DROP TABLE deliveries_history;
