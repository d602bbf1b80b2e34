-- +goose Up
-- Finished event deliveries move out of the hot deliveries table into
-- deliveries_history once created more than a day ago, and events whose
-- data retention purged into events_history (sqlstore/history.go). Both
-- are partitioned by ID (RANGE on id, one partition per UTC month: IDs
-- begin with their event's time). The tables that ingest, claims and
-- outcomes write keep about a day of rows plus what is still pending,
-- whatever the retention; reads by ID or list see both through the views
-- delivery_rows and event_rows. Partitioning deliveries and events
-- themselves was measured and refused: every claim and outcome statement
-- then paid for each partition (docs/performance.md).
--
-- A history table has its table's columns in its table's order (rows move
-- as SELECT *): a migration that adds a column to deliveries or events
-- adds it to the history table too and makes the view again
-- (TestHistoryColumns).
CREATE TABLE deliveries_history (LIKE deliveries INCLUDING DEFAULTS) PARTITION BY RANGE (id);
ALTER TABLE deliveries_history ADD PRIMARY KEY (project_id, id);
CREATE INDEX deliveries_history_webhook ON deliveries_history (webhook_id, status);
-- Rows of a month that has no partition yet (none before the first
-- maintenance, which makes this month's and the next).
CREATE TABLE deliveries_history_default PARTITION OF deliveries_history DEFAULT;
CREATE VIEW delivery_rows AS SELECT * FROM deliveries UNION ALL SELECT * FROM deliveries_history;

CREATE TABLE events_history (LIKE events INCLUDING DEFAULTS) PARTITION BY RANGE (id);
ALTER TABLE events_history ADD PRIMARY KEY (project_id, id);
CREATE TABLE events_history_default PARTITION OF events_history DEFAULT;
CREATE VIEW event_rows AS SELECT * FROM events UNION ALL SELECT * FROM events_history;

-- +goose Down
DROP VIEW event_rows;
INSERT INTO events SELECT * FROM events_history;
DROP TABLE events_history;
DROP VIEW delivery_rows;
INSERT INTO deliveries SELECT * FROM deliveries_history;
DROP TABLE deliveries_history;
