-- A packed copy of the event stream for replays: each row holds the events
-- after the cursor (after_tx, after_seq) up to (last_tx, last_seq), in
-- stream order, encoded together (see block.go). Rows are derived from
-- events and may be deleted at any time; replays read the events instead.
-- bodies says, as JSON, the block's format and whose properties it keeps:
-- {"Format":…,"All":…,"Names":[…]}.
CREATE TABLE stream_blocks (
	after_tx INTEGER NOT NULL,
	after_seq INTEGER NOT NULL,
	last_tx INTEGER NOT NULL,
	last_seq INTEGER NOT NULL,
	events INTEGER NOT NULL,
	bodies TEXT NOT NULL,
	data BLOB NOT NULL,
	PRIMARY KEY (after_tx, after_seq)
);
