-- A packed copy of the event stream for replays: each row holds the events
-- after the cursor (after_tx, after_seq) up to (last_tx, last_seq), in
-- stream order, encoded together (see block.go). Rows are derived from
-- events and may be deleted at any time; replays read the events instead.
-- bodies says, as JSON, the block's format and whose properties it keeps:
-- {"Format":…,"All":…,"Names":[…]}.
CREATE TABLE stream_blocks (
	after_tx BIGINT NOT NULL,
	after_seq BIGINT NOT NULL,
	last_tx BIGINT NOT NULL,
	last_seq BIGINT NOT NULL,
	events BIGINT NOT NULL,
	bodies TEXT NOT NULL,
	data BYTEA NOT NULL,
	PRIMARY KEY (after_tx, after_seq)
);
