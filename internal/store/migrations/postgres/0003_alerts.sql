-- Alerts: an account entering a tier that routing acts on, written in the
-- same transaction as the score change. payload is the JSON destinations
-- carry; actions is a JSON array of action names. needs_ack is 1 when a
-- person is expected to act (sales zones, not quiet): the response time
-- counts those. acked_at is 0 until someone acknowledges the alert.
CREATE TABLE alerts (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scorecard     TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    tier          TEXT    NOT NULL,
    previous_tier TEXT    NOT NULL,
    score         DOUBLE PRECISION NOT NULL,
    segment       TEXT    NOT NULL,
    zone          TEXT    NOT NULL,
    actions       TEXT    NOT NULL,
    payload       TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    needs_ack     BIGINT  NOT NULL DEFAULT 0,
    acked_at      BIGINT  NOT NULL DEFAULT 0,
    acked_by      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX alerts_subject ON alerts (subject, created_at);
CREATE INDEX alerts_created ON alerts (created_at);
CREATE INDEX alerts_open ON alerts (needs_ack, acked_at, created_at);

-- Deliveries: the outbox. One row per alert and destination, with its state:
-- pending → delivering → delivered, or failed (retried at next_at) → dead.
-- A delivering row whose lease ran out (its dispatcher stopped) is taken
-- again: delivery is at least once, and the id is the receiver's key to drop
-- duplicates.
CREATE TABLE deliveries (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id     BIGINT  NOT NULL REFERENCES alerts (id),
    destination  TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    attempts     BIGINT  NOT NULL DEFAULT 0,
    next_at      BIGINT  NOT NULL,
    lease_until  BIGINT  NOT NULL DEFAULT 0,
    last_error   TEXT    NOT NULL DEFAULT '',
    updated_at   BIGINT  NOT NULL,
    delivered_at BIGINT  NOT NULL DEFAULT 0,
    UNIQUE (alert_id, destination)
);
CREATE INDEX deliveries_due ON deliveries (state, next_at);
CREATE INDEX deliveries_destination ON deliveries (destination, updated_at);
