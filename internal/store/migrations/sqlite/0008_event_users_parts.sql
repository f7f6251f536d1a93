-- Timelines are kept in parts of 16,384 events (part = seq >> 14, the
-- store's timelinePartShift). Keyed by user alone, a projection pass's
-- timeline rows landed all over the index, and its commit wrote a page per
-- row once the table outgrew the pass; keyed by part first, a pass writes
-- only the pages of the part being filled. A timeline is read part by part.
CREATE TABLE event_users_parts (
    part INTEGER NOT NULL,
    key  TEXT    NOT NULL,
    ts   INTEGER NOT NULL,
    seq  INTEGER NOT NULL,
    PRIMARY KEY (part, key, ts, seq)
) WITHOUT ROWID;
INSERT INTO event_users_parts (part, key, ts, seq) SELECT seq >> 14, key, ts, seq FROM event_users;
DROP TABLE event_users;
ALTER TABLE event_users_parts RENAME TO event_users;
