-- Events in runs (runs.go): a row holds n consecutive events, the last of
-- them last_seq, their columns encoded and compressed together. A row an
-- event cost the one writer several times the CPU and the file five times
-- the bytes (docs/benchmarks.md). The events table is emptied into runs
-- when the store is migrated (eventlog.go) and is written no more.
CREATE TABLE event_runs (
    last_seq INTEGER PRIMARY KEY,
    n        INTEGER NOT NULL,
    data     BLOB    NOT NULL
);
-- Counting events reads this index, not the runs' pages.
CREATE INDEX event_runs_n ON event_runs (n);
