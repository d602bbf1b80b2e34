-- +goose Up
-- Trace context (W3C): an event keeps the traceparent of Hookgate's span
-- that accepted it, and the producer's tracestate, both '' for an event
-- accepted before; an attempt keeps its own span's trace and span IDs
-- (hex), '' before. A project may turn off the trace headers sent to its
-- receivers.
ALTER TABLE events ADD COLUMN trace TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN trace_state TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN trace_id TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN span_id TEXT NOT NULL DEFAULT '';
ALTER TABLE projects ADD COLUMN trace_headers_off INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE projects DROP COLUMN trace_headers_off;
ALTER TABLE attempts DROP COLUMN span_id;
ALTER TABLE attempts DROP COLUMN trace_id;
ALTER TABLE events DROP COLUMN trace_state;
ALTER TABLE events DROP COLUMN trace;
