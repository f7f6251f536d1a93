-- The digests of stored messageIds, a row per insert instead of a row per
-- event: digests holds 16 bytes an event (h1 then h2, little-endian) for the
-- events last_seq - n + 1 to last_seq. A row an event was a second insert for
-- every event the collector committed, and a start read them back one row at
-- a time before taking the first event (docs/benchmarks.md). event_ids keeps
-- the digests stored before this table; nothing adds to it.
CREATE TABLE event_digests (
    last_seq INTEGER PRIMARY KEY,
    digests  BLOB    NOT NULL
);
