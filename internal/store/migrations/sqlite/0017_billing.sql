-- Billing events as the billing system sent them (Stripe's webhooks, or an
-- export of its events), each stored once: its id is the billing system's.
-- Times are Unix milliseconds; body is the event's JSON as received.
CREATE TABLE billing_events (
    id          TEXT    PRIMARY KEY,
    source      TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    created     INTEGER NOT NULL,
    customer    TEXT    NOT NULL DEFAULT '',
    received_at INTEGER NOT NULL,
    body        TEXT    NOT NULL
);
CREATE INDEX billing_events_created ON billing_events (created, id);
