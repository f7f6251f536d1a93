-- The event log, in a file of its own beside the main one (docs/architecture.md,
-- "Two files"): the collector commits here while identity and scoring commit
-- to the main file, each with its own writer. Times are Unix milliseconds.
CREATE TABLE events (
    seq          INTEGER PRIMARY KEY,
    message_id   TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    name         TEXT    NOT NULL DEFAULT '',
    user_id      TEXT    NOT NULL DEFAULT '',
    anonymous_id TEXT    NOT NULL DEFAULT '',
    group_id     TEXT    NOT NULL DEFAULT '',
    previous_id  TEXT    NOT NULL DEFAULT '',
    ts           INTEGER NOT NULL,
    original_ts  INTEGER,
    sent_at      INTEGER,
    received_at  INTEGER NOT NULL,
    body         TEXT    NOT NULL
);

-- The 128-bit digest of each stored messageId, in commit order. Beacon keeps
-- them in memory to refuse duplicates without a unique index on random ids,
-- whose upkeep would cost a page write per event (docs/benchmarks.md).
CREATE TABLE event_ids (
    seq INTEGER PRIMARY KEY,
    h1  INTEGER NOT NULL,
    h2  INTEGER NOT NULL
);
