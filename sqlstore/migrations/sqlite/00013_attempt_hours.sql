-- +goose Up
-- Hourly rollups of attempts, by webhook and duration, for the stats of
-- long windows: an hour is rolled up once it is final (an hour after its
-- end), on the first stats read that covers it. duration_ms -1 marks a
-- rolled-up hour, so that an hour without attempts is not rolled again.
CREATE TABLE attempt_hours (
    webhook_id  TEXT NOT NULL,
    hour        INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    attempts    INTEGER NOT NULL,
    ok          INTEGER NOT NULL,
    c4          INTEGER NOT NULL,
    c5          INTEGER NOT NULL,
    c0          INTEGER NOT NULL,
    last_ok     INTEGER NOT NULL,
    PRIMARY KEY (webhook_id, hour, duration_ms)
);

-- +goose Down
DROP TABLE attempt_hours;
